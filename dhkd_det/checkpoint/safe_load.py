"""Resuming under torch >= 2.6, whose ``torch.load`` defaults to
``weights_only=True`` while MMEngine 0.10 calls it without the argument.

We keep the safe default instead of switching the check off for every file:
checkpoints hold one non-tensor MMEngine type, the message hub's
``HistoryBuffer``, which by default pickles its statistics methods through
``builtins.getattr`` (a global that must never be allow-listed).  We pickle it
from its plain data instead and allow-list the class and numpy's array
reconstruction, so our checkpoints load with ``weights_only=True``.
"""
import copyreg

import numpy as np
import torch
from mmengine.logging import HistoryBuffer


def _reduce_history_buffer(buf: HistoryBuffer):
    logs, counts = buf.data
    return HistoryBuffer, (logs.tolist(), counts.tolist(), buf.max_length)


def _numpy_globals():
    core = getattr(np, '_core', None) or np.core
    globs = [core.multiarray._reconstruct, core.multiarray.scalar, np.ndarray,
             np.dtype]
    globs += [type(np.dtype(t)) for t in
              ('float16', 'float32', 'float64', 'int32', 'int64', 'uint8',
               'bool')]
    return globs


def allow_mmengine_checkpoints() -> None:
    """Make MMEngine checkpoints save and load under
    ``torch.load(weights_only=True)``.  Idempotent."""
    copyreg.pickle(HistoryBuffer, _reduce_history_buffer)
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:
        add([HistoryBuffer] + _numpy_globals())


allow_mmengine_checkpoints()
