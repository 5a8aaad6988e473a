# DHKD on COCO 2017 for Cascade R-CNN: R101-FPN (MMDetection model zoo, 42.5
# box AP) -> R50-FPN, MMDetection's 20e schedule.  Each of the student's three
# box heads gets a second classifier `fc_cls_aux`, trained only by BinaryKLNorm
# against the teacher's 81 logits of the same stage, on the RoIs that stage of
# the student sampled; the per-stage losses `s0/s1/s2.loss_binary_kl_norm_aux` carry the
# cascade's stage_loss_weights (1, 0.5, 0.25), like its own stage losses.
#
#   python tools/train.py configs/dhkd/coco_cascade_rcnn_r101_r50.py
_base_ = [
    'mmdet::cascade_rcnn/cascade-rcnn_r50_fpn_20e_coco.py',
    '../_base_/dhkd_coco_runtime.py'
]

student = _base_.model
student.roi_head.type = 'DualCascadeRoIHead'
for stage_head in student.roi_head.bbox_head:
    stage_head.type = 'DualShared2FCBBoxHead'
    stage_head.aux_head = 'linear'

model = dict(
    _delete_=True,
    type='DetDistiller',
    student=student,
    teacher='mmdet::cascade_rcnn/cascade-rcnn_r101_fpn_20e_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/'
    'cascade_rcnn/cascade_rcnn_r101_fpn_20e_coco/'
    'cascade_rcnn_r101_fpn_20e_coco_bbox_mAP-0.425_'
    '20200504_231812-5057dcc5.pth',
    distill_losses=dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=1.0)))
del student, stage_head
# atomic checkpoints (MMDetection's are written in place), curves at the end
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'),
                     curves=dict(type='PlotCurvesHook'))
