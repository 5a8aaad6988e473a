# DHKD on COCO 2017 for a one-stage detector: RetinaNet R101-FPN (MMDetection
# model zoo, 38.9 box AP) -> R50-FPN, 2x schedule.  The student's head gets
# a second classification conv `retina_cls_aux` on the class tower, trained
# only by BinaryKLNorm against the teacher's per-anchor sigmoid logits on the
# anchors the focal loss uses (valid, not ignored).
_base_ = [
    'mmdet::retinanet/retinanet_r50_fpn_2x_coco.py',
    '../_base_/dhkd_coco_runtime.py'
]

student = _base_.model
student.bbox_head.type = 'DualRetinaHead'

model = dict(
    _delete_=True,
    type='DetDistiller',
    student=student,
    teacher='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/'
    'retinanet/retinanet_r101_fpn_2x_coco/'
    'retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth',
    distill_losses=dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=1.0)))
del student
# atomic checkpoints (MMDetection's are written in place), curves at the end
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'),
                     curves=dict(type='PlotCurvesHook'))
