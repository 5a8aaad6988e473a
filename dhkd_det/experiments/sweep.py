"""The paper's table in one command: a sweep of teacher / student pairs x
methods x seeds, each cell one run of ``tools/train.py`` in its own work dir
``<out>/<pair>/<method>/seed_<seed>/``, resumable cell by cell.

A cell is
- finished when its work dir holds a readable ``results.json`` (written
  atomically when the run ended well, with its best and last top-1): never
  run again.  A damaged one (cut off, empty, without its numbers: a copy or
  a file system that lost it) is named and does not count: the cell is
  interrupted, failed or new by the rules below, and its rerun writes the
  file again;
- interrupted when it holds a checkpoint (MMEngine's ``last_checkpoint``):
  run again with ``--resume``;
- failed when its last run exited non-zero (``failed.json`` keeps the exit
  code and the log's last lines): run again from scratch, or resumed where
  it left a checkpoint.
So rerunning the same command after a crash or a preemption finishes the
table without redoing finished work.  Runs go through a local process pool
(``run_local``: as many concurrent runs per GPU as asked, one at a time on
the CPU; a plan line, a line per run started and ended, the time left) or
a slurm job array (``slurm.py``: submitit, one task per cell);
``sweep_table.collect`` builds the table from the work dirs whenever
asked.  A driver stops cleanly on SIGINT / SIGTERM (``stop_on_signals``:
the runs save, exit 75), its runs stop with it however it dies
(``Children``), and one driver holds an output folder (``sweep_lock``).
"""
import errno
import fcntl
import json
import math
import os
import os.path as osp
import queue
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import (Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple)

from mmengine.config import Config
from mmengine.runner import find_latest_checkpoint

from ..analysis.runs import read_run
from ..apis.runner import TRAIN_COMMAND, train_in_subprocess
from ..apis.work_dir_lock import holder as work_dir_holder
from ..checkpoint.atomic_file import atomic_write_text
from ..engine.hooks.preemption_hook import PREEMPTED_EXIT_CODE
from ..utils import stop_with_parent
from ..utils.paths import CONFIG_ROOT, config_file
from .methods import (METHODS, Method, method_config, method_from_config,
                      method_parts)
from .sweep_preflight import FirstFailures, check_cells

RESULTS_FILE = 'results.json'
FAILED_FILE = 'failed.json'
STDOUT_LOG = 'train_stdout.log'
OVERRIDE_DIR = 'override'
#: characters of a failed run's output kept in failed.json and printed
TAIL_CHARS = 3000
#: reading a config imports its custom_imports and edits sys.path: the
#: pool's threads write their cells' configs one at a time
_CONFIG_LOCK = threading.Lock()


@dataclass(frozen=True)
class Cell:
    pair: str
    method: str
    seed: int

    @property
    def id(self) -> str:
        """``<pair>/<method>/seed_<seed>``: the work dir under the sweep's
        output folder, and what ``--only`` takes."""
        return f'{self.pair}/{self.method}/seed_{self.seed}'


def parse_cell(text: str) -> Cell:
    parts = text.strip('/').split('/')
    if len(parts) != 3 or not parts[2].startswith('seed_') or \
            not parts[2][len('seed_'):].lstrip('-').isdigit():
        raise ValueError(f'--only {text!r}: a cell is '
                         '<pair>/<method>/seed_<seed>, e.g. '
                         'res32x4_res8x4/dkd/seed_0')
    return Cell(parts[0], parts[1], int(parts[2][len('seed_'):]))


@dataclass
class Sweep:
    """``pairs``: name -> the pair's config file; ``cfg_options``: applied
    to every run, the command line's over the sweep file's;
    ``method_defs``: the methods the sweep file defines by their config
    (the others are ``methods.METHODS``')."""
    file: str
    pairs: Dict[str, str]
    methods: List[str]
    seeds: List[int]
    cfg_options: Dict[str, object]
    method_defs: Dict[str, Method] = field(default_factory=dict)

    def method(self, name: str) -> Method:
        """The definition of method ``name`` in this sweep."""
        return self.method_defs.get(name) or METHODS[name]

    @property
    def name(self) -> str:
        return osp.splitext(osp.basename(self.file))[0]

    def cells(self) -> List[Cell]:
        return [Cell(p, m, s) for p in self.pairs for m in self.methods
                for s in self.seeds]


def pair_config(name: str) -> str:
    """The config of a pair named as in ``configs/dhkd/`` (``res56_res20``
    for ``configs/dhkd/cifar100_res56_res20.py``)."""
    return config_file(f'dhkd/cifar100_{name}.py')


def _config_path(path: str, sweep_file: str) -> str:
    """A config named in a sweep file: as given, else from the sweep file's
    folder, else as a path of the repository (``configs/...``), found in
    the package's configs wherever they are (a checkout or a wheel)."""
    for candidate in (path, osp.join(osp.dirname(sweep_file), path),
                      osp.join(CONFIG_ROOT, path)):
        if osp.isfile(candidate):
            return osp.abspath(candidate)
    return path


def load_sweep(path: str, cfg_options: Optional[dict] = None) -> Sweep:
    """Reads a sweep file (Python, MMEngine's config format) with keys
    ``pairs`` (a list of pair names of ``configs/dhkd/``, or a dict name ->
    config file), ``methods`` (names of ``methods.METHODS``, ``'all'`` for
    every one of them, or a dict name -> the method's config file, a name
    of ``METHODS`` mapping to None), ``seeds`` and optionally
    ``cfg_options`` (a dict of ``--cfg-options`` for every run);
    ``cfg_options`` given here override the file's.  ``path`` is a file,
    or one of the package's own sweeps by its repository path
    (``configs/sweeps/cifar100_paper.py``), found wherever the configs are
    (a checkout or an installed wheel)."""
    if not osp.isfile(path) and osp.isfile(
            osp.join(CONFIG_ROOT, path)):
        path = osp.join(CONFIG_ROOT, path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'sweep file {path!r} not found (e.g. '
                                'configs/sweeps/cifar100_paper.py)')
    cfg = Config.fromfile(path)
    missing = [k for k in ('pairs', 'methods', 'seeds') if k not in cfg]
    if missing:
        raise KeyError(f'{path}: no {", ".join(missing)}; a sweep names '
                       'pairs = [...], methods = [...], seeds = [...]')
    pairs = cfg.pairs
    if isinstance(pairs, (list, tuple)):
        pairs = {name: pair_config(name) for name in pairs}
    elif isinstance(pairs, dict):
        pairs = {name: _config_path(file, path)
                 for name, file in pairs.items()}
    else:
        raise TypeError(f'{path}: pairs must be a list of pair names or a '
                        f'dict name -> config file, not {pairs!r}')
    for name, file in pairs.items():
        if not osp.isfile(file):
            raise FileNotFoundError(
                f'{path}: pair {name!r} has no config ({file} not found); '
                'name a pair of configs/dhkd/cifar100_<pair>.py or give '
                'pairs as a dict name -> config file')
        if '/' in name:
            raise ValueError(f'{path}: pair name {name!r} names a folder; '
                             'use a name without "/"')
    methods, method_defs = _sweep_methods(cfg.methods, path)
    if not cfg.seeds or not all(isinstance(s, int) for s in cfg.seeds):
        raise TypeError(f'{path}: seeds must be a non-empty list of '
                        f'integers, not {cfg.seeds!r}')
    options = dict(cfg.get('cfg_options') or {})
    options.update(cfg_options or {})
    return Sweep(osp.abspath(path), pairs, methods, list(cfg.seeds),
                 _plain(options), method_defs)


def _sweep_methods(methods, path: str) -> Tuple[List[str],
                                                Dict[str, Method]]:
    """A sweep file's ``methods``: their names and the definitions of
    those it gives by config file."""
    if methods == 'all':
        return list(METHODS), {}
    defs: Dict[str, Method] = {}
    if isinstance(methods, dict):
        for name, config in methods.items():
            if config is None:
                continue
            file = _config_path(config, path)
            if not osp.isfile(file):
                raise FileNotFoundError(
                    f'{path}: method {name!r} has no config ({config} not '
                    'found)')
            if '/' in name:
                raise ValueError(f'{path}: method name {name!r} names a '
                                 'folder; use a name without "/"')
            defs[name] = method_from_config(name, file)
    elif not isinstance(methods, (list, tuple)):
        raise TypeError(f"{path}: methods must be 'all', a list of method "
                        'names or a dict name -> config file, not '
                        f'{methods!r}')
    unknown = [m for m in methods if m not in METHODS and m not in defs]
    if unknown:
        raise KeyError(f'{path}: unknown methods {unknown} in methods; '
                       f"choose from {sorted(METHODS)}, 'all', or give a "
                       'dict name -> config file')
    for name in methods:  # a loss type misspelt fails before any run
        method_parts(name, (defs.get(name) or METHODS[name]).config_path)
    return list(methods), defs


def _plain(value):
    """Config containers as plain dicts / lists (for repr and JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def format_option(value) -> str:
    """A parsed ``--cfg-options`` value back in MMEngine's DictAction
    syntax."""
    if isinstance(value, (list, tuple)):
        inner = ','.join(format_option(v) for v in value)
        return f'[{inner}]' if isinstance(value, list) else f'({inner})'
    return str(value)


def option_args(options: Dict[str, object]) -> List[str]:
    """``--cfg-options k=v ...`` as command-line arguments (none if
    empty)."""
    if not options:
        return []
    return ['--cfg-options'] + [f'{k}={format_option(v)}'
                                for k, v in options.items()]


# --- one cell -------------------------------------------------------------

def cell_dir(out: str, cell: Cell) -> str:
    return osp.join(out, cell.pair, cell.method, f'seed_{cell.seed}')


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(
        value, bool) and math.isfinite(value)


#: the numbers a classification cell's results.json must hold
CLS_RESULT_KEYS = ('best_top1', 'last_top1')


def read_results(path: str, cell_id: str,
                 required: Sequence[str] = CLS_RESULT_KEYS) -> dict:
    """The results a finished run left in ``path``; a ValueError naming the
    file and the cell when it is damaged (not JSON, not an object, or
    without a number under each of ``required``; ``seconds``, when
    present, a number)."""
    try:
        with open(path, encoding='utf-8') as f:
            results = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        reason = 'empty' if not os.path.getsize(path) else \
            f'not JSON ({err}): cut off?'
        raise ValueError(f'{path} (cell {cell_id}) is damaged: {reason}') \
            from err
    if not isinstance(results, dict):
        raise ValueError(f'{path} (cell {cell_id}) is damaged: it holds a '
                         f'{type(results).__name__}, not the results object')
    wrong = [k for k in required if not _number(results.get(k))]
    if 'seconds' in results and not _number(results['seconds']):
        wrong.append('seconds')
    if wrong:
        raise ValueError(f'{path} (cell {cell_id}) is damaged: no number '
                         f'under {", ".join(wrong)}')
    return results


def damaged_results(work_dir: str,
                    required: Sequence[str] = CLS_RESULT_KEYS
                    ) -> Optional[str]:
    """Why the ``results.json`` of ``work_dir`` is damaged, or None when it
    is readable or absent."""
    path = osp.join(work_dir, RESULTS_FILE)
    if not osp.isfile(path):
        return None
    try:
        read_results(path, _cell_id(work_dir), required)
    except ValueError as err:
        return str(err)
    return None


def _cell_id(work_dir: str) -> str:
    return '/'.join(osp.normpath(work_dir).split(osp.sep)[-3:])


def cell_state(work_dir: str,
               required: Sequence[str] = CLS_RESULT_KEYS) -> str:
    """'finished', 'interrupted' (a checkpoint to resume from), 'failed'
    (its last run failed before any checkpoint) or 'new'.  A damaged
    ``results.json`` (one without a number under each of ``required``)
    does not make a cell finished (``damaged_results`` says why)."""
    if osp.isfile(osp.join(work_dir, RESULTS_FILE)) and \
            damaged_results(work_dir, required) is None:
        return 'finished'
    if osp.isdir(work_dir) and find_latest_checkpoint(work_dir):
        return 'interrupted'
    if osp.isfile(osp.join(work_dir, FAILED_FILE)):
        return 'failed'
    return 'new'


# --- the runs a driver started, and stopping them -------------------------

#: the launcher of every run a sweep starts (run by its path: standard
#: library only, replaced by tools/train.py at once)
STOP_WITH_PARENT = stop_with_parent.__file__


class SweepStopped(Exception):
    """The sweep was told to stop before this run started."""


class Children:
    """The ``tools/train.py`` runs this process started, so that a stop
    reaches them.

    Each run starts in its own session: a Ctrl-C at the terminal (SIGINT to
    the foreground process group) reaches the driver alone, which passes it
    on as SIGTERM, the signal ``PreemptionHook`` saves on, instead of
    ``KeyboardInterrupt`` ending the run where it stands.  Each starts
    through ``stop_with_parent.py``: a driver killed outright (SIGKILL)
    leaves no run training on, unwatched; the kernel sends it SIGTERM.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._procs: List[subprocess.Popen] = []
        self.stopped_by: Optional[int] = None

    @property
    def stopping(self) -> bool:
        return self.stopped_by is not None

    def popen(self, cmd: Sequence[str], **kwargs) -> subprocess.Popen:
        """``subprocess.Popen(cmd, **kwargs)``, started as the class says;
        ``SweepStopped`` once a stop was asked for."""
        with self._lock:
            if self.stopping:
                raise SweepStopped()
            self._procs = [p for p in self._procs if p.returncode is None]
            proc = subprocess.Popen(
                [sys.executable, STOP_WITH_PARENT, str(os.getpid()),
                 *cmd], start_new_session=True, **kwargs)
            self._procs.append(proc)
        if self.stopping:  # a stop came while it started: pass it on too
            proc.send_signal(signal.SIGTERM)
        return proc

    def running(self) -> int:
        with self._lock:
            return sum(p.poll() is None for p in self._procs)

    def stop(self, signum: int, passed_on: int = signal.SIGTERM) -> bool:
        """Starts no new run and sends ``passed_on`` to the running ones
        (``signum``: what asked for the stop); True the first time.  Safe
        in a signal handler: it only signals (``Popen.send_signal`` never
        waits for a child)."""
        first = not self.stopping
        if first:
            self.stopped_by = signum
        for proc in list(self._procs):
            proc.send_signal(passed_on)
        return first

    def reset(self) -> None:
        """Forget an earlier stop (a process that drives sweeps again)."""
        with self._lock:
            self.stopped_by = None


#: the runs of this process (signals, like this registry, are per process)
CHILDREN = Children()


def _write_now(text: str) -> None:
    """A line to stdout from a signal handler: straight to the descriptor
    (a print there could re-enter the one it interrupted)."""
    try:
        sys.stdout.flush()
    except RuntimeError:
        pass  # interrupted inside a write: the line goes after it
    os.write(sys.stdout.fileno(), (text + '\n').encode())


@contextmanager
def stop_on_signals(signums: Sequence[int] = (signal.SIGINT,
                                               signal.SIGTERM)
                    ) -> Iterator[Children]:
    """In the block, SIGINT and SIGTERM stop the sweep cleanly: the running
    runs get SIGTERM (each saves and exits 75), no new cell starts, and
    the block goes on to its end (the table) once they have exited.  Call
    it from the main thread."""
    def handle(signum, frame):
        name = signal.Signals(signum).name
        if CHILDREN.stop(signum):
            _write_now(f'{name}: stopping the sweep: the running cells '
                       'save their state and exit, no new cell starts; '
                       'then the table. Rerun the same command to '
                       'continue.')
        else:
            _write_now(f'{name} again: still waiting for '
                       f'{CHILDREN.running()} running cells to save')

    previous = {s: signal.signal(s, handle) for s in signums}
    try:
        yield CHILDREN
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# --- one driver per output folder -----------------------------------------

SWEEP_LOCK = 'sweep.lock'
_NO_FLOCK = (errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOLCK, errno.EINVAL)


class SweepInUse(RuntimeError):
    """Another driver runs cells in this output folder."""


def _holder_text(fd: int) -> str:
    for _ in range(20):  # a new holder writes its record right after locking
        data = os.pread(fd, 1 << 16, 0)
        if data.strip():
            try:
                h = json.loads(data.decode('utf-8'))
                return (f'pid {h["pid"]} on host {h["host"]}, started '
                        f'{h["started"]} ({h["command"]})')
            except (ValueError, KeyError, TypeError):
                return 'a driver whose record is damaged'
        time.sleep(0.05)
    return ''


@contextmanager
def sweep_lock(out: str, shared: bool = False) -> Iterator[str]:
    """Holds ``<out>/sweep.lock`` for the block, or raises ``SweepInUse``
    naming the holder: exclusively for a driver of the whole sweep, shared
    for runs of one cell (``--only``: slurm's array tasks run side by side).
    Two drivers on one folder would start the same cells, the loser's
    ``tools/train.py`` refused on the cell's lock and reported as failed.
    The kernel's ``flock``: it goes when the holder's process ends, however
    it ends; where the file system has none, nothing is held (a warning
    says so)."""
    os.makedirs(out, exist_ok=True)
    path = osp.join(out, SWEEP_LOCK)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
                        | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_text(fd)
            if holder:
                what = f'another driver of a sweep: {holder}'
            else:
                what = ('runs of single cells (--only, e.g. the tasks of '
                        'a slurm job array)')
            raise SweepInUse(
                f'{out} is in use by {what}. Two drivers on one --out '
                'would start the same cells: wait for it to end (then '
                'rerun to finish what is left), or give this one another '
                '--out.') from None
        except OSError as err:
            if err.errno not in _NO_FLOCK:
                raise
            print(f'warning: the file system of {path} has no flock: '
                  'nothing keeps a second driver off this --out',
                  flush=True)
        if not shared:
            record = dict(pid=os.getpid(), host=socket.gethostname(),
                          started=time.strftime('%Y-%m-%d %H:%M:%S %z'),
                          command=' '.join(sys.argv))
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode(), 0)
        try:
            yield path
        finally:
            if not shared:
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # drops the lock


# --- launching a cell ------------------------------------------------------

def launch_cell(config: str, options: Dict[str, object], work_dir: str,
                resume: bool = False,
                env: Optional[Dict[str, str]] = None) -> Tuple[int, str]:
    """Trains ``config`` with ``options`` in ``work_dir`` through the
    project's run launcher (``tools/train.py`` in a child process, the
    merged config written as ``<work_dir>/<config name>``; ``env`` added to
    its environment); returns (exit code, the output's tail).  The one
    place a sweep starts a run: started by ``CHILDREN`` (its own session,
    stopped with this process), its output unbuffered, so that
    ``train_stdout.log`` can be followed while it runs."""
    run = train_in_subprocess(config, options, work_dir, resume=resume,
                              env={'PYTHONUNBUFFERED': '1', **(env or {})},
                              popen=CHILDREN.popen)
    return run.returncode, run.tail(TAIL_CHARS)


#: (override config, cfg_options, work dir, resume, env) -> (rc, log tail)
LaunchFn = Callable[..., Tuple[int, str]]


def write_cell_config(sweep: Sweep, cell: Cell, work_dir: str) -> str:
    """Writes the cell's override config to ``<work_dir>/override/`` (with
    the command that trains it in its header; not in the work dir itself,
    where MMEngine dumps the merged config under the same name); returns its
    path."""
    os.makedirs(osp.join(work_dir, OVERRIDE_DIR), exist_ok=True)
    path = osp.join(work_dir, OVERRIDE_DIR, f'{cell.method}.py')
    merged = osp.join(work_dir, f'{cell.method}.py')
    command = ' '.join(shlex.quote(a) for a in (
        *TRAIN_COMMAND.split(), merged, '--work-dir', work_dir))
    atomic_write_text(path, method_config(
        cell.method, cell.pair, sweep.pairs[cell.pair], cell.seed,
        header=f'written by dhkd-reproduce (tools/reproduce.py) for {sweep.file}; rerun:\n'
        f'{command}', method=sweep.method(cell.method)))
    return path


def run_results(work_dir: str) -> dict:
    """Best and last validation top-1 of a finished run and its epochs
    (read by ``analysis.read_run``)."""
    run = read_run(work_dir)
    steps, top1 = run.series('val', 'top1')
    if not top1:
        raise ValueError(f'{work_dir}: the run logged no validation top1')
    return dict(best_top1=max(top1), last_top1=top1[-1], epochs=steps[-1])


def _earlier_seconds(work_dir: str) -> float:
    """The seconds the cell's earlier, failed attempts took."""
    path = osp.join(work_dir, FAILED_FILE)
    if not osp.isfile(path):
        return 0.0
    try:
        with open(path, encoding='utf-8') as f:
            seconds = json.load(f).get('seconds_total', 0.0)
    except (UnicodeDecodeError, ValueError, AttributeError):
        return 0.0  # a damaged failed.json: the time is only informative
    return seconds if _number(seconds) else 0.0


@dataclass
class Outcome:
    cell: Cell
    #: 'done', 'failed', 'skipped' (finished before), 'stopped' (saved on a
    #: stop, exit 75: the next run resumes it) or 'not started' (a stop
    #: came first)
    status: str
    seconds: float = 0.0
    tail: str = ''
    resumed: bool = False
    #: the wall seconds of every attempt, for a finished run
    total_seconds: float = 0.0


def _wait_for_left_run(work_dir: str, cell: Cell,
                       say: Callable[[str], None]) -> None:
    """Waits while a run this driver did not start holds the cell's work
    dir: one left by a driver that was killed (it got SIGTERM through
    ``stop_with_parent`` and is saving), so that this rerun resumes it
    instead of failing on its lock."""
    held = work_dir_holder(work_dir)
    if held is None:
        return
    who = (f'pid {held.get("pid")} on host {held.get("host")}' if held
           else 'a run whose lock file is damaged')
    say(f'{cell.id}: an earlier run still holds its work dir ({who}), '
        'left by a driver that stopped; waiting for it to save and exit '
        '(or stop it yourself'
        + (f': kill {held["pid"]})' if held.get('pid') else ')'))
    while work_dir_holder(work_dir) is not None and not CHILDREN.stopping:
        time.sleep(1.0)


def run_cell(sweep: Sweep, out: str, cell: Cell,
             launch: LaunchFn = launch_cell,
             env: Optional[Dict[str, str]] = None,
             say: Callable[[str], None] = print,
             where: str = '') -> Outcome:
    """Runs one cell unless it is finished: resumed from its checkpoint if
    it has one; ``results.json`` on success, ``failed.json`` (exit code and
    log tail) on failure; a run that exits 75 (stopped, saved) is
    'stopped', neither.  A damaged ``results.json`` is named (``say``) and
    the cell run again.  Says a line when the run starts (``where``: on
    what, e.g. 'GPU 1')."""
    work_dir = cell_dir(out, cell)
    state = cell_state(work_dir)
    if state == 'finished':
        return Outcome(cell, 'skipped')
    if CHILDREN.stopping:
        return Outcome(cell, 'not started')
    damaged = damaged_results(work_dir)
    if damaged:
        say(f'{damaged}; the cell is not finished: running it again, '
            + ('resumed from its checkpoint' if state == 'interrupted'
               else 'from scratch (no checkpoint)'))
    os.makedirs(work_dir, exist_ok=True)
    _wait_for_left_run(work_dir, cell, say)
    state = cell_state(work_dir)  # the run waited for may have saved
    if state == 'finished' or CHILDREN.stopping:
        return Outcome(cell, 'skipped' if state == 'finished'
                       else 'not started')
    with _CONFIG_LOCK:
        config = write_cell_config(sweep, cell, work_dir)
    earlier = _earlier_seconds(work_dir)
    resume = state == 'interrupted'
    say(f'start {cell.id}' + (' (resumed)' if resume else '')
        + (f' on {where}' if where else '')
        + f': log {osp.join(work_dir, STDOUT_LOG)}')
    start = time.time()
    try:
        rc, tail = launch(config, sweep.cfg_options, work_dir, resume, env)
    except SweepStopped:
        return Outcome(cell, 'not started')
    if rc == 0:
        try:
            results = run_results(work_dir)
        except (FileNotFoundError, ValueError) as err:
            rc, tail = -1, f'{tail}\n{err}'
    seconds = time.time() - start
    failed = osp.join(work_dir, FAILED_FILE)
    # saved and stopped; or, on the sweep's stop, ended by SIGTERM before
    # its PreemptionHook was set up (nothing trained to save)
    if rc == PREEMPTED_EXIT_CODE or (CHILDREN.stopping and
                                     rc == -signal.SIGTERM):
        return Outcome(cell, 'stopped', seconds, tail, resume)
    if rc != 0:
        atomic_write_text(failed, json.dumps(dict(
            cell=cell.id, returncode=rc, tail=tail, resumed=resume,
            seconds_total=earlier + seconds,
            time=time.strftime('%Y-%m-%d %H:%M:%S')),
            indent=1))
        return Outcome(cell, 'failed', seconds, tail, resume)
    # the subprocesses' wall time over every attempt, for the cost of a run
    results.update(cell=cell.id, pair=cell.pair, method=cell.method,
                   seed=cell.seed, seconds=earlier + seconds)
    atomic_write_text(osp.join(work_dir, RESULTS_FILE),
                      json.dumps(results, indent=1))
    if osp.exists(failed):
        os.remove(failed)
    return Outcome(cell, 'done', seconds, resumed=resume,
                   total_seconds=earlier + seconds)


# --- many cells on one machine ------------------------------------------

def visible_devices() -> List[str]:
    """The GPUs runs may use: ``CUDA_VISIBLE_DEVICES`` if set, else every
    GPU torch sees; none on a CPU machine."""
    listed = os.environ.get('CUDA_VISIBLE_DEVICES')
    if listed is not None:
        return [d.strip() for d in listed.split(',') if d.strip()]
    import torch
    return [str(i) for i in range(torch.cuda.device_count())]


def device_slots(devices: Sequence[str], per_gpu: int,
                 cpu_runs: int = 1) -> List[Optional[str]]:
    """One slot per concurrent run: ``per_gpu`` for each device, in the
    order that spreads the first runs over all devices; without devices,
    ``cpu_runs`` CPU slots (``None``)."""
    if per_gpu < 1:
        raise ValueError(f'--per-gpu {per_gpu}: give at least 1')
    if cpu_runs < 1:
        raise ValueError(f'--cpu-runs {cpu_runs}: give at least 1')
    if not devices:
        return [None] * cpu_runs
    if cpu_runs > 1:
        raise ValueError(
            f'--cpu-runs {cpu_runs} is for a machine without GPUs, but '
            f'GPUs {", ".join(devices)} are visible: use --per-gpu for '
            'concurrent runs on them (or CUDA_VISIBLE_DEVICES= to run on '
            'the CPU)')
    return [d for _ in range(per_gpu) for d in devices]


def cpu_run_threads(cpu_runs: int, environ=os.environ,
                    cores: Optional[int] = None) -> Optional[int]:
    """The threads each of ``cpu_runs`` concurrent CPU runs gets: the cores
    shared out (at least 1), so that the runs do not each start a thread
    per core and slow each other down; None (torch's default) for one run
    or where ``OMP_NUM_THREADS`` is set already (the runs inherit it)."""
    if cpu_runs <= 1 or environ.get('OMP_NUM_THREADS'):
        return None
    cores = cores or os.cpu_count() or 1
    return max(1, cores // cpu_runs)


def cpu_run_env(cpu_runs: int) -> Optional[Dict[str, str]]:
    """The environment each of ``cpu_runs`` concurrent CPU runs is given
    (``OMP_NUM_THREADS`` of ``cpu_run_threads``), or None."""
    threads = cpu_run_threads(cpu_runs)
    return {'OMP_NUM_THREADS': str(threads)} if threads else None


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f'{hours}h {minutes:02d}m' if hours else f'{minutes}m {secs:02d}s'


class Estimate:
    """The time a sweep has left, from the runs measured so far: a cell is
    expected to take the mean wall time of the finished runs of its method
    (their every attempt), or of all finished runs while its method has
    none; a running cell what it has left of that; spread over the slots.
    None until some run has finished."""

    def __init__(self, slots: int):
        self.slots = max(slots, 1)
        self._by_method: Dict[str, List[float]] = {}

    def measured(self, cell: Cell, seconds: float) -> None:
        if _number(seconds) and seconds > 0:
            self._by_method.setdefault(cell.method, []).append(seconds)

    def expected(self, cell: Cell) -> Optional[float]:
        times = self._by_method.get(cell.method) or [
            t for ts in self._by_method.values() for t in ts]
        return sum(times) / len(times) if times else None

    def left(self, queued: Sequence[Cell],
             running: Dict[Cell, float]) -> Optional[float]:
        """``running``: cell -> its start (``time.time()``)."""
        now, total = time.time(), 0.0
        for cell in queued:
            expected = self.expected(cell)
            if expected is None:
                return None
            total += expected
        for cell, start in running.items():
            expected = self.expected(cell)
            if expected is None:
                return None
            total += max(expected - (now - start), 0.0)
        return total / self.slots


def _finished_seconds(work_dir: str) -> float:
    try:
        return read_results(osp.join(work_dir, RESULTS_FILE), '').get(
            'seconds', 0.0)
    except (OSError, ValueError):
        return 0.0


def run_local(sweep: Sweep, out: str, cells: Sequence[Cell],
              slots: Sequence[Optional[str]],
              launch: LaunchFn = launch_cell,
              say: Callable[[str], None] = print,
              cpu_threads: Optional[int] = None) -> List[Outcome]:
    """Runs the unfinished ``cells`` over ``slots`` (``device_slots``),
    each run with ``CUDA_VISIBLE_DEVICES`` set to its slot's GPU (a CPU
    slot's run with ``OMP_NUM_THREADS=cpu_threads`` where given), and
    returns every cell's outcome, finished ones as 'skipped'.  Says the
    plan first (cells, finished, to run, where the logs are), a line when
    a run starts and one when it ends (done / running / failed / left, the
    time left by ``Estimate``).  After a stop (``stop_on_signals``) no
    new run starts; the running ones end saved ('stopped')."""
    finished = [c for c in cells
                if cell_state(cell_dir(out, c)) == 'finished']
    todo = [c for c in cells if c not in finished]
    if launch is launch_cell:  # every cell's inputs, before any runs
        check_cells(sweep, todo, out)
    outcomes = [Outcome(c, 'skipped') for c in finished]
    clock = Estimate(len(slots))
    for cell in finished:
        clock.measured(cell, _finished_seconds(cell_dir(out, cell)))
    eta = clock.left(todo, {})
    say(f'plan: {len(cells)} cells, {len(finished)} finished (skipped), '
        f'{len(todo)} to run, {len(slots)} at a time'
        + (f', about {_duration(eta)}' if eta and todo else '')
        + f'; each cell logs to {out}/<pair>/<method>/seed_<seed>/'
        f'{STDOUT_LOG}')
    free: 'queue.Queue[Optional[str]]' = queue.Queue()
    for slot in slots:
        free.put(slot)
    lock = threading.Lock()
    running: Dict[Cell, float] = {}

    def work(cell: Cell) -> Outcome:
        slot = free.get()
        try:
            if CHILDREN.stopping:
                return Outcome(cell, 'not started')
            with lock:
                running[cell] = time.time()
            env = {'CUDA_VISIBLE_DEVICES': slot} if slot is not None else (
                {'OMP_NUM_THREADS': str(cpu_threads)} if cpu_threads
                else None)
            return run_cell(sweep, out, cell, launch, env, say,
                            where='' if slot is None else f'GPU {slot}')
        finally:
            with lock:
                running.pop(cell, None)
            free.put(slot)

    ran: List[Outcome] = []
    first = FirstFailures(out, cell_dir)  # alike failures stop the sweep
    with ThreadPoolExecutor(max_workers=len(slots)) as pool:
        for future in as_completed([pool.submit(work, c) for c in todo]):
            outcome = future.result()
            ran.append(outcome)
            if outcome.status == 'not started':
                continue
            if outcome.status == 'done':
                clock.measured(outcome.cell, outcome.total_seconds)
            ended = [o for o in ran if o.status != 'not started']
            with lock:
                now_running = dict(running)
            queued = [] if CHILDREN.stopping else [
                c for c in todo if c not in now_running and
                all(o.cell != c for o in ran)]
            failed = sum(o.status == 'failed' for o in ran)
            eta = clock.left(queued, now_running)
            status = outcome.status + (' (resumed)' if outcome.resumed
                                       else '')
            if outcome.status == 'stopped':
                status += ', saved: the next run resumes it'
            say(f'[{len(ended)}/{len(todo)}] {outcome.cell.id} {status} '
                f'in {_duration(outcome.seconds)}: done '
                f'{sum(o.status == "done" for o in ran)}, running '
                f'{len(now_running)}, failed {failed}, left {len(queued)}'
                + (f', about {_duration(eta)} to go'
                   if eta is not None and (queued or now_running) else '')
                + (', stopping' if CHILDREN.stopping else ''))
            if outcome.status == 'failed':
                say(failure_report(out, outcome))
            shared = first.note(outcome)
            if shared:
                pool.shutdown(wait=False, cancel_futures=True)
                raise shared
    return outcomes + ran


def failure_report(out: str, outcome: Outcome) -> str:
    work_dir = cell_dir(out, outcome.cell)
    return (f'--- {outcome.cell.id} failed; the last lines of '
            f'{osp.join(work_dir, STDOUT_LOG)}:\n{outcome.tail.rstrip()}\n'
            f'--- (rerun the same command to retry it)')
