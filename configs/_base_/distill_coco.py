# What every COCO distillation config adds to MMDetection's runtime, as the
# second base of a neutral pair base (distill_coco_<detector>.py):
#   _base_ = ['mmdet::<student detector config>', 'distill_coco.py']
# (default_hooks, which MMDetection's bases define too, cannot be merged from
# two bases: each pair base sets its checkpoint, curves and runtime_info
# hooks itself.)
custom_imports = dict(imports=['dhkd_det'], allow_failed_imports=False)
# MMEngine's Runner with this project's guarantees (checks before anything
# is built, the work dir's lock, stopping on SIGTERM / SIGUSR1 with a
# checkpoint, exact resume), also under MMDetection's own tools/train.py
runner_type = 'DHKDRunner'
# DHKDHook loads the teacher; CocoAuditHook checks the annotation files
# before the data sets are built and names the boxes MMDetection skips;
# LossGuardHook stops on a NaN / exploding loss before it is saved
custom_hooks = [
    dict(type='DHKDHook'),
    dict(type='CocoAuditHook'),
    dict(type='LossGuardHook')
]
# under DDP the step stays the distiller's own (the task / distillation
# split reaches gradient alignment)
model_wrapper_cfg = dict(type='DistillerDataParallel')
