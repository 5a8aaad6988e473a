"""Test-only (imported through a config's custom_imports): the run whose
work dir ends with $SWEEP_PAUSE_CELL, after its 2nd training iteration,
writes ``<work_dir>/paused`` and waits there, once per work dir, until a
SIGTERM or SIGINT reaches it; then that signal's own handler acts as it
would have (PreemptionHook's for SIGTERM: save after the next iteration,
exit 75; Python's KeyboardInterrupt for SIGINT).  It holds a run still at
a known point while a test signals its sweep driver."""
import os
import os.path as osp
import signal
import threading

from mmengine.runner import EpochBasedTrainLoop

_run_iter = EpochBasedTrainLoop.run_iter


def _pause_until_signalled(work_dir):
    got = threading.Event()
    previous = {}

    def note(signum, frame):
        got.set()
        handler = previous[signum]
        if callable(handler):
            handler(signum, frame)

    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, note)
    open(osp.join(work_dir, 'paused'), 'w').close()
    try:
        while not got.wait(0.05):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _pausing_run_iter(self, idx, data_batch):
    _run_iter(self, idx, data_batch)
    cell = os.environ.get('SWEEP_PAUSE_CELL')
    work_dir = self.runner.work_dir
    if cell and work_dir.endswith(cell) and self.runner.iter == 2 and \
            not osp.exists(osp.join(work_dir, 'paused')):
        _pause_until_signalled(work_dir)


EpochBasedTrainLoop.run_iter = _pausing_run_iter
