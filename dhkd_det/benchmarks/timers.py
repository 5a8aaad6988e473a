"""Timing training iterations inside MMEngine's runner: a window of
iterations timed whole with the device synchronised at its ends only, and
the peak GPU memory of the warm-up apart from the steady state."""
import contextlib
import time

import torch
from mmengine.hooks import Hook

from .host_syncs import count_host_syncs


def synchronize(device: str) -> None:
    """Waits for the device's queued work (a no-op on the CPU)."""
    if device == 'cuda':
        torch.cuda.synchronize()


class PeakMemory(Hook):
    """Peak GPU memory of the first ``warmup`` iterations (first calls,
    autotuning) apart from the steady-state peak after them."""
    priority = 'LOWEST'

    def __init__(self, warmup: int, device: str):
        self.warmup_iters, self.device, self.warmup = warmup, device, None

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if self.device == 'cuda' and runner.iter + 1 == self.warmup_iters:
            self.warmup = round(torch.cuda.max_memory_allocated() / 2**30, 2)
            torch.cuda.reset_peak_memory_stats()


class WindowTimer(Hook):
    """Times iterations ``start`` .. ``stop - 1`` (0-based) whole: from the
    end of iteration ``start - 1`` (its hooks included) to the end of
    iteration ``stop - 1``, with the device synchronised at both ends only.
    With ``count_syncs`` it counts the host syncs in the window instead."""
    priority = 'LOWEST'

    def __init__(self, start: int, stop: int, device: str,
                 count_syncs: bool = False):
        assert 1 <= start < stop
        self.start, self.stop, self.device = start, stop, device
        self.count_syncs = count_syncs
        self.is_open = False
        self.seconds = None
        self.syncs = None
        self._counting = contextlib.ExitStack()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        done = runner.iter + 1
        if done == self.start:
            synchronize(self.device)
            if self.count_syncs:
                self.syncs = self._counting.enter_context(
                    count_host_syncs(self.device))
            self.is_open = True
            self._t0 = time.perf_counter()
        elif done == self.stop:
            self.close()

    def close(self) -> None:
        if not self.is_open:
            return
        self._counting.close()
        synchronize(self.device)
        self.seconds = time.perf_counter() - self._t0
        self.is_open = False

    @property
    def iters(self) -> int:
        return self.stop - self.start
