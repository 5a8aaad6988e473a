# The neutral base of the COCO 2017 distillation configs of RetinaNet
# R101-FPN (MMDetection model zoo, 38.9 box AP) -> R50-FPN, 2x schedule: the
# student, the teacher and its checkpoint, the runtime hooks and the DDP
# wrapper; no distillation loss and no aux head.
_base_ = [
    'mmdet::retinanet/retinanet_r50_fpn_2x_coco.py', 'distill_coco.py'
]

model = dict(
    _delete_=True,
    type='DetDistiller',
    student=_base_.model,
    teacher='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/'
    'retinanet/retinanet_r101_fpn_2x_coco/'
    'retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth')
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
