# DHKD on COCO 2017: Faster R-CNN R101-FPN (MMDetection model zoo, 39.8 box
# AP) -> R50-FPN, MMDetection's 2x schedule.  The student's box head gets a
# second classifier `fc_cls_aux`, trained only by BinaryKLNorm against the
# teacher's 81 logits on the student's sampled RoIs; the main head keeps
# MMDetection's losses and makes the predictions.
#
#   python tools/train.py configs/dhkd/coco_faster_rcnn_r101_r50.py
#   bash tools/dist_train.sh configs/dhkd/coco_faster_rcnn_r101_r50.py 8
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py',
    '../_base_/dhkd_coco_runtime.py'
]

student = _base_.model
student.roi_head.type = 'DualStandardRoIHead'
student.roi_head.bbox_head.type = 'DualShared2FCBBoxHead'
student.roi_head.bbox_head.aux_head = 'linear'

model = dict(
    _delete_=True,
    type='DetDistiller',
    student=student,
    teacher='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/'
    'faster_rcnn/faster_rcnn_r101_fpn_2x_coco/'
    'faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_20200504_210455-1d2dac9c.pth',
    distill_losses=dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=1.0)))
del student
# atomic checkpoints (MMDetection's are written in place), curves at the end
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'),
                     curves=dict(type='PlotCurvesHook'))
