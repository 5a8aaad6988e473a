# The neutral base of the COCO 2017 distillation configs of ATSS R101-FPN
# (MMDetection model zoo, 41.5 box AP) -> R50-FPN (39.4 box AP alone), 1x
# schedule: the student, the teacher and its checkpoint, the runtime hooks
# and the DDP wrapper; no distillation loss and no aux head.
_base_ = ['mmdet::atss/atss_r50_fpn_1x_coco.py', 'distill_coco.py']

model = dict(
    _delete_=True,
    type='DetDistiller',
    student=_base_.model,
    teacher='mmdet::atss/atss_r101_fpn_1x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/'
    'atss/atss_r101_fpn_1x_coco/atss_r101_fpn_1x_20200825-dfcadd6f.pth')
# atomic checkpoints (MMDetection's are written in place), curves at every
# validation and at the end
# and the logged losses read at the logger's interval only
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'),
                     curves=dict(type='PlotCurvesHook'),
                     runtime_info=dict(type='DeferredRuntimeInfoHook'))
# MMDetection's local scalars and, where TensorBoard is installed, its
# event files (tensorboard --logdir WORK_DIR)
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),
                                dict(type='OptionalTensorboardVisBackend')])
