"""The GPU check's report: parts run one by one, each under its own time
limit and try/except, into one JSON rewritten after every part, so that a
run cut short (or a part that hangs or fails) still leaves what was
measured."""
import contextlib
import gc
import json
import os
import signal
import time
import traceback

import torch

# parts with less than this left are skipped rather than started
MIN_PART_S = 8


class PartTimeout(Exception):
    """A part ran past its time limit."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise PartTimeout in the main thread after ``seconds``: a hung part
    (a stuck data loader, say) must not take the rest of the run with it."""
    def expire(signum, frame):
        raise PartTimeout(f'stopped after its {seconds:.0f} s limit')

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Report:
    """The JSON, rewritten to ``path`` after every part."""

    def __init__(self, path: str, budget: float):
        self.path = path
        self.deadline = time.monotonic() + budget
        self.data = {}

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def write(self) -> None:
        if not self.path:
            return
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(self.data, f, indent=1)
        os.replace(tmp, self.path)

    def run(self, fn, cap: float) -> dict:
        """``fn()``'s dict, or the error it raised, with its wall time; not
        started when the run's time budget is (nearly) spent."""
        left = self.left()
        if left < MIN_PART_S:
            return dict(skipped=f'time budget spent ({left:.0f} s left)')
        if torch.cuda.is_available():
            # runners and models of earlier parts sit in reference cycles
            # (and a failed part's in its traceback): free their GPU memory
            gc.collect()
            torch.cuda.empty_cache()
        start = time.perf_counter()
        try:
            with time_limit(min(cap, left)):
                entry = fn()
        except Exception as e:  # any failure is data for the report
            entry = dict(error=f'{type(e).__name__}: {e}',
                         traceback=traceback.format_exc()[-3000:])
        entry['seconds'] = round(time.perf_counter() - start, 1)
        return entry

    def part(self, name: str, fn, cap: float) -> dict:
        self.data[name] = self.run(fn, cap)
        self.write()
        return self.data[name]
