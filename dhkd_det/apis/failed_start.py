"""A tool that fails says why in a few lines and keeps the traceback in a
log file: the first CIFAR command used to print 385 lines (environment,
config, hook table, three chained tracebacks) with the helpful line last.

``run_tool(main, tool)`` runs a command line's ``main``; on an exception it
writes the command, the message and the full traceback to
``<work dir>/error_<time>.log`` (the work dir a tool announced with
``note_work_dir``; the temporary folder before it is known) and prints the
message, at most ``MAX_LINES`` lines (the pre-flight's report whole, when
it fits), and one line naming the log, then exits with status 1.
``SystemExit`` passes through (a preempted run's status 75 included).
What the tool held back of the console while building its runner
(``held_console.py``: MMEngine's environment and config) goes into that log
too, not onto the console."""
import os
import os.path as osp
import sys
import tempfile
import time
import traceback
from typing import Callable, Optional

from ..checks.preflight import PreflightFailed
from .held_console import release_console, take_held_console

#: console lines of a failed start, the log's line included
MAX_LINES = 40

_work_dir: Optional[str] = None


def note_work_dir(work_dir: Optional[str]) -> None:
    """Where a failure's log goes from now on."""
    global _work_dir
    _work_dir = work_dir


def _log_path(tool: str) -> str:
    stamp = time.strftime('%Y%m%d_%H%M%S')
    folder = _work_dir
    if folder:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError:
            folder = None
    if not folder:
        folder = tempfile.gettempdir()
        return osp.join(folder, f'dhkd_{tool}_error_{stamp}_{os.getpid()}.log')
    return osp.join(folder, f'error_{stamp}.log')


def summary(err: BaseException) -> str:
    """What the console shows of ``err``: a pre-flight's report as it is,
    else the exception's type and message."""
    if isinstance(err, PreflightFailed):
        return str(err)
    text = str(err)
    if isinstance(err, KeyError) and len(err.args) == 1 and \
            isinstance(err.args[0], str):
        text = err.args[0]  # str() of a KeyError quotes the message
    return f'{type(err).__name__}: {text}'


def _clip(text: str, lines: int) -> str:
    rows = text.rstrip().splitlines()
    if len(rows) <= lines:
        return '\n'.join(rows)
    return '\n'.join(rows[:lines - 1] + [
        f'... ({len(rows) - lines + 1} more lines in the log)'])


def report_failure(err: BaseException, tool: str, held: str = '') -> str:
    """Write ``err``'s log (with ``held``, the console output held back
    while the run was starting); returns the console text."""
    shown = summary(err)
    log = _log_path(tool)
    try:
        with open(log, 'w', encoding='utf-8') as f:
            f.write(f'command: {" ".join(sys.argv)}\n'
                    f'folder: {os.getcwd()}\n\n{shown}\n\n')
            f.write(''.join(traceback.format_exception(
                type(err), err, err.__traceback__)))
            if held:
                f.write('\nthe console while the run was being built '
                        f'(held back from the console):\n{held}')
        where = f'the full log, with the traceback: {log}'
    except OSError as log_err:  # the message still reaches the console
        where = f'(no log written: {log_err})'
    return _clip(shown, MAX_LINES - 1) + '\n' + where


def run_tool(main: Callable[[], None], tool: str) -> None:
    """Run ``main``; on an exception print ``report_failure``'s lines to
    stderr and exit with status 1."""
    try:
        main()
    except Exception as err:  # noqa: BLE001  SystemExit passes through
        print(report_failure(err, tool, take_held_console()),
              file=sys.stderr, flush=True)
        sys.exit(1)
    finally:  # a SystemExit (preempted while building) prints it
        release_console()
