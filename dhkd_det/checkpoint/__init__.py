"""Every way dhkd_det writes and reads a checkpoint: atomic writes, safe
(weights-only) loading of MMEngine checkpoints, and reading one for resume,
test, the teacher and export."""
from .atomic_file import atomic_path, atomic_write_text
from .read import compare_state, describe_mismatch, read_checkpoint
from .safe_load import allow_mmengine_checkpoints

__all__ = ['allow_mmengine_checkpoints', 'atomic_path', 'atomic_write_text',
           'compare_state', 'describe_mismatch', 'read_checkpoint']
