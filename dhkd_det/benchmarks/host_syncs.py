"""Counting the host-device synchronisations of a block of code, and where
they come from."""
import contextlib
import sys
import warnings
from collections import Counter

import torch
from torch.overrides import TorchFunctionMode

#: the package of the measuring code, whose own frames are not the caller
_BENCHMARKS = __name__.rpartition('.')[0]


@contextlib.contextmanager
def count_host_syncs(device: str):
    """A Counter of the host syncs made inside the block, keyed by the first
    caller outside torch (see ``caller``).

    CUDA: every synchronising CUDA call, as reported by
    ``torch.cuda.set_sync_debug_mode('warn')``.  CPU (``--smoke``): calls
    that read a tensor's value into Python (``item``, ``float``, ``bool``,
    ``int``, ``tolist``), the ones that are host syncs on a GPU; boolean-mask
    indexing and the like are syncs too on a GPU but not visible here.
    """
    counts = Counter()
    if device == 'cuda':
        with warnings.catch_warnings():
            warnings.simplefilter('always')
            show = warnings.showwarning

            def showwarning(message, category, filename, lineno, file=None,
                            line=None):
                if 'synchronizing CUDA operation' in str(message):
                    counts[caller()] += 1
                else:
                    show(message, category, filename, lineno, file, line)

            warnings.showwarning = showwarning
            torch.cuda.set_sync_debug_mode('warn')
            try:
                yield counts
            finally:
                torch.cuda.set_sync_debug_mode('default')
    else:
        with HostReads(counts):
            yield counts


class HostReads(TorchFunctionMode):
    """Counts, into ``counts`` by caller, the torch calls that read a
    tensor's value into Python."""
    NAMES = {'item', '__bool__', '__float__', '__int__', 'tolist'}

    def __init__(self, counts: Counter):
        super().__init__()
        self.counts = counts

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, '__name__', None) in self.NAMES:
            self.counts[caller()] += 1
        return func(*args, **(kwargs or {}))


def caller() -> str:
    """``module:line (function)`` of the innermost frame outside torch, the
    warnings module and these benchmarks (by module name, so that packages
    installed anywhere, a ``--target`` folder too, group alike)."""
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get('__name__', '?')
        if not (module.split('.')[0] == 'torch' or module == 'warnings' or
                module == _BENCHMARKS or
                module.startswith(_BENCHMARKS + '.')):
            return f'{module}:{frame.f_lineno} ({frame.f_code.co_name})'
        frame = frame.f_back
    return 'torch (no Python caller)'


def summarise_syncs(counts: Counter, iters: int) -> dict:
    """The counts of ``count_host_syncs`` per iteration: in all, by
    top-level package and by caller (the 12 most frequent)."""
    by_package = Counter()
    for where, n in counts.items():
        by_package[where.split('.', 1)[0].split(':')[0]] += n
    return dict(
        per_iter=round(sum(counts.values()) / iters, 2),
        per_iter_by_package={k: round(n / iters, 2)
                             for k, n in by_package.most_common()},
        per_iter_by_caller={k: round(n / iters, 2)
                            for k, n in counts.most_common(12)})
