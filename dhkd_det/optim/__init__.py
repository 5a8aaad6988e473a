"""Optimizer wrappers: gradient alignment (DHKD's ``--ga``) and bfloat16."""
from .bf16 import BF16OptimWrapper, bf16_autocast
from .grad_align import (GradAlignOptimWrapper, GradAlignStats,
                         project_conflicting)

__all__ = ['BF16OptimWrapper', 'GradAlignOptimWrapper', 'GradAlignStats',
           'bf16_autocast', 'project_conflicting']
