"""Runs a command that is told to stop (SIGTERM) when the process that
started it dies, however it dies (SIGKILL included):

    python stop_with_parent.py PARENT_PID COMMAND [ARG ...]

Linux's ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` is set, then this process
becomes COMMAND (``os.execv``; the setting survives it).  A sweep driver
starts each ``tools/train.py`` through it, so a driver killed outright
leaves no run training on unwatched: the run gets SIGTERM, saves and exits
75 (``PreemptionHook``), and a rerun of the sweep resumes it.  If the
parent is already gone when the setting is made, the command is not run
(exit 75: nothing done, try again).  SIGUSR2, submitit's time-limit warning
to the job that drives the run, is ignored here: that job passes the stop
on as SIGUSR1, which the run handles.  Where ``prctl`` does not exist
(not Linux), the command runs without the setting.

Standard library only, and run by its path: it must start before the
interpreter imports anything heavy, since COMMAND replaces it.
"""
import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
#: as PreemptionHook's: "a temporary failure: try again"
NOT_STARTED_EXIT_CODE = 75


def _set_parent_death_signal(signum: int) -> bool:
    """Whether the kernel now sends ``signum`` when the parent dies."""
    if not sys.platform.startswith('linux'):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library('c') or None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f'prctl(PR_SET_PDEATHSIG): {os.strerror(err)}')
    return True


def main(argv) -> None:
    if len(argv) < 3 or not argv[1].isdigit():
        sys.exit('usage: stop_with_parent.py PARENT_PID COMMAND [ARG ...]')
    parent, command = int(argv[1]), argv[2:]
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)  # kept across execv
    if _set_parent_death_signal(signal.SIGTERM) and os.getppid() != parent:
        sys.exit(NOT_STARTED_EXIT_CODE)  # the parent died before prctl
    os.execv(command[0], command)


if __name__ == '__main__':
    main(sys.argv)
