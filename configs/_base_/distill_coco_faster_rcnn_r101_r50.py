# The neutral base of the COCO 2017 distillation configs of Faster R-CNN
# R101-FPN (MMDetection model zoo, 39.8 box AP) -> R50-FPN, MMDetection's 2x
# schedule: the student, the teacher and its checkpoint, the runtime hooks
# and the DDP wrapper; no distillation loss and no aux head.  A method's
# config (configs/dhkd/, configs/kd/) adds its losses and heads to this.
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py', 'distill_coco.py'
]

student = _base_.model
# MMDetection's RoI head, which also hands the distiller the RoIs its box
# loss sampled: every logit distillation of a two-stage student runs on them
student.roi_head.type = 'DualStandardRoIHead'

model = dict(
    _delete_=True,
    type='DetDistiller',
    student=student,
    teacher='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/'
    'faster_rcnn/faster_rcnn_r101_fpn_2x_coco/'
    'faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_20200504_210455-1d2dac9c.pth')
del student
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
