from .atomic_checkpoint_hook import AtomicCheckpointHook
from .bf16 import BF16OptimWrapper
from .checkpoint_compat import allow_mmengine_checkpoints
from .coco_audit_hook import CocoAuditHook
from .dhkd_hook import DHKDHook
from .distill_schedule_hook import DistillScheduleHook
from .distiller_ddp import DistillerDataParallel
from .grad_align import (GradAlignOptimWrapper, GradAlignStats,
                         project_conflicting)
from .grad_diagnostics_hook import GradDiagnosticsHook
from .loss_guard_hook import LossGuardHook
from .neural_collapse_hook import NeuralCollapseHook
from .plot_curves_hook import PlotCurvesHook
from .progress_hook import ProgressHook

__all__ = [
    'AtomicCheckpointHook', 'BF16OptimWrapper', 'CocoAuditHook', 'DHKDHook',
    'DistillScheduleHook', 'DistillerDataParallel', 'GradAlignOptimWrapper',
    'GradAlignStats', 'GradDiagnosticsHook', 'LossGuardHook',
    'NeuralCollapseHook', 'PlotCurvesHook', 'ProgressHook', 'project_conflicting',
    'allow_mmengine_checkpoints'
]
