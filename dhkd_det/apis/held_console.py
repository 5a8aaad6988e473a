"""The console of a starting run, held back until the run has started.

Building MMEngine's runner prints the environment, the whole config and
the hook table (about 300 lines for a CIFAR config, more for COCO).  A run
that then fails to start (a teacher checkpoint of another architecture, a
checkpoint that does not fit, a model that cannot be built) used to leave
its short error (``failed_start.py``) under that dump.  Now the tools hold
standard output back from the runner's build until the run starts:

* the run starts (MMEngine's ``before_train_epoch`` / ``before_test_epoch``:
  every ``before_train`` hook has run, the teacher is loaded, the first
  epoch's loader not yet started; ``ReleaseConsoleHook``): the held text is
  printed, then everything passes through, so the console of a run that
  starts is what it was;
* the start fails: the held text goes into the failure's log
  (``failed_start.report_failure``) beside the traceback, and the console
  shows only the short report.

Nothing is lost either way: MMEngine's own log file in the work dir gets the
same lines as they are written.  Only ``sys.stdout`` is held (MMEngine's
console handler, pycocotools' prints); warnings on stderr pass."""
import io
import sys
import threading
from typing import Optional

from mmengine.hooks import Hook


class HeldStream:
    """A text stream that keeps what is written until ``release`` (then
    writes it to ``stream`` and passes everything through) or ``take``
    (which returns it and passes everything through from then on)."""

    def __init__(self, stream):
        self._stream = stream
        self._held: Optional[io.StringIO] = io.StringIO()
        self._lock = threading.Lock()

    @property
    def holding(self) -> bool:
        return self._held is not None

    def write(self, text: str) -> int:
        with self._lock:
            if self._held is not None:
                return self._held.write(text)
        return self._stream.write(text)

    def flush(self) -> None:
        if self._held is None:
            self._stream.flush()

    def take(self) -> str:
        """Stop holding; returns what was held (not printed)."""
        with self._lock:
            held, self._held = self._held, None
        return held.getvalue() if held is not None else ''

    def release(self) -> None:
        """Stop holding; prints what was held."""
        text = self.take()
        if text:
            self._stream.write(text)
        self._stream.flush()

    def __getattr__(self, name):  # isatty, fileno, encoding, ...
        return getattr(self._stream, name)


_held: Optional[HeldStream] = None


def hold_console() -> None:
    """Hold ``sys.stdout`` back from now until the run starts (or fails)."""
    global _held
    if _held is None or not _held.holding:
        _held = HeldStream(sys.stdout)
        sys.stdout = _held


def _restore() -> None:
    # loggers made meanwhile keep the HeldStream, which passes through now
    if sys.stdout is _held and _held is not None:
        sys.stdout = _held._stream


def release_console() -> None:
    """Print what was held and stop holding (nothing if nothing is held)."""
    if _held is not None and _held.holding:
        _held.release()
        _restore()


def take_held_console() -> str:
    """What was held, not printed; stops holding (for a failure's log)."""
    if _held is None or not _held.holding:
        return ''
    text = _held.take()
    _restore()
    return text


class ReleaseConsoleHook(Hook):
    """Prints the held console once the run has started: model built,
    weights loaded or resumed, the teacher loaded (``DHKDHook.before_train``),
    before the first epoch's loader starts its workers."""

    priority = 'HIGHEST'

    def before_train_epoch(self, runner) -> None:
        release_console()

    def before_test_epoch(self, runner) -> None:
        release_console()
