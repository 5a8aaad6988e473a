"""dhkd_det's hooks, one a file, registered in MMEngine's ``HOOKS``."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .coco_audit_hook import CocoAuditHook
from .deferred_runtime_info_hook import (DeferredRuntimeInfoHook,
                                         flush_logged_outputs)
from .dhkd_hook import DHKDHook
from .distill_schedule_hook import DistillScheduleHook
from .grad_diagnostics_hook import GradDiagnosticsHook
from .loss_guard_hook import LossGuardHook
from .neural_collapse_hook import NeuralCollapseHook
from .plot_curves_hook import PlotCurvesHook
from .preemption_hook import PreemptionHook
from .progress_hook import ProgressHook
from .rng_state_hook import RngStateHook
from .schedule_resume_hook import ScheduleResumeHook

__all__ = [
    'AtomicCheckpointHook', 'CocoAuditHook', 'DHKDHook',
    'DeferredRuntimeInfoHook', 'DistillScheduleHook', 'GradDiagnosticsHook',
    'LossGuardHook', 'NeuralCollapseHook', 'PlotCurvesHook',
    'PreemptionHook', 'ProgressHook', 'RngStateHook', 'ScheduleResumeHook',
    'flush_logged_outputs'
]
