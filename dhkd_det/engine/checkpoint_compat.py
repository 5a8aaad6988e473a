"""Resuming under torch >= 2.6, whose ``torch.load`` defaults to
``weights_only=True`` while MMEngine 0.10 calls it without the argument.

We keep the safe default and allow-list the few non-tensor types an MMEngine
checkpoint holds (its message hub's history buffers, numpy arrays and
scalars), instead of switching the safety check off for every file.
"""
import numpy as np
import torch
from mmengine.logging import HistoryBuffer


def _numpy_globals():
    core = getattr(np, '_core', None) or np.core
    globs = [core.multiarray._reconstruct, core.multiarray.scalar, np.ndarray,
             np.dtype]
    globs += [type(np.dtype(t)) for t in
              ('float16', 'float32', 'float64', 'int32', 'int64', 'uint8',
               'bool')]
    return globs


def allow_mmengine_checkpoints() -> None:
    """Register the types of MMEngine checkpoints as safe for
    ``torch.load(weights_only=True)``.  Idempotent."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:
        add([HistoryBuffer] + _numpy_globals())


allow_mmengine_checkpoints()
