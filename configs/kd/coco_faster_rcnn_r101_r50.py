# KD baseline for configs/dhkd/coco_faster_rcnn_r101_r50.py: Hinton's KD
# (T=2) against the teacher's 81 logits on the student's sampled RoIs, put on
# the student's one (main) classifier, which keeps MMDetection's
# cross-entropy too; everything else (teacher, schedule, hooks) is the DHKD
# config's.  The temperature and weight are those of the DHKD config's
# BinaryKLNorm, so that the two runs differ in where the distillation lands,
# not in how hard it pulls.  (The KD term carries its T^2.)
#
#   python tools/train.py configs/kd/coco_faster_rcnn_r101_r50.py
_base_ = '../dhkd/coco_faster_rcnn_r101_r50.py'

# a plain box head without the aux classifier; the DualStandardRoIHead stays,
# as it hands the distiller the sampled RoIs
bbox_head = _base_.model.student.roi_head.bbox_head
bbox_head.type = 'Shared2FCBBoxHead'
bbox_head.pop('aux_head')
model = dict(
    student=dict(roi_head=dict(bbox_head=dict(_delete_=True, **bbox_head))),
    distill_losses=dict(
        _delete_=True,
        main=dict(type='KDLoss', temperature=2.0, loss_weight=1.0)))
del bbox_head
