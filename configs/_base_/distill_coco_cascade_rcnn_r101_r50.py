# The neutral base of the COCO 2017 distillation configs of Cascade R-CNN
# R101-FPN (MMDetection model zoo, 42.5 box AP) -> R50-FPN, MMDetection's 20e
# schedule: the student, the teacher and its checkpoint, the runtime hooks
# and the DDP wrapper; no distillation loss and no aux head.  The teacher's
# stage i runs on the RoIs the student's stage i sampled.
_base_ = [
    'mmdet::cascade_rcnn/cascade-rcnn_r50_fpn_20e_coco.py', 'distill_coco.py'
]

student = _base_.model
# MMDetection's cascade RoI head, which also hands the distiller the RoIs
# each stage's box loss sampled
student.roi_head.type = 'DualCascadeRoIHead'

model = dict(
    _delete_=True,
    type='DetDistiller',
    student=student,
    teacher='mmdet::cascade_rcnn/cascade-rcnn_r101_fpn_20e_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/'
    'cascade_rcnn/cascade_rcnn_r101_fpn_20e_coco/'
    'cascade_rcnn_r101_fpn_20e_coco_bbox_mAP-0.425_'
    '20200504_231812-5057dcc5.pth')
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
