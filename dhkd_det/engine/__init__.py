from .bf16 import BF16OptimWrapper
from .checkpoint_compat import allow_mmengine_checkpoints
from .dhkd_hook import DHKDHook
from .grad_align import GradAlignOptimWrapper, project_conflicting

__all__ = [
    'BF16OptimWrapper', 'DHKDHook', 'GradAlignOptimWrapper',
    'project_conflicting', 'allow_mmengine_checkpoints'
]
