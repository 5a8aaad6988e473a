# DHKD on COCO 2017 for Cascade R-CNN: R101-FPN (MMDetection model zoo, 42.5
# box AP) -> R50-FPN, MMDetection's 20e schedule.  Each of the student's three
# box heads gets a second classifier `fc_cls_aux`, trained only by
# BinaryKLNorm against the teacher's 81 logits of the same stage, on the RoIs
# that stage of the student sampled; the per-stage losses
# `s0/s1/s2.loss_binary_kl_norm_aux` carry the cascade's stage_loss_weights
# (1, 0.5, 0.25), like its own stage losses.
#
#   python tools/train.py configs/dhkd/coco_cascade_rcnn_r101_r50.py
_base_ = '../_base_/distill_coco_cascade_rcnn_r101_r50.py'

model = dict(
    student=dict(
        roi_head=dict(bbox_head=[
            dict(stage_head, type='DualShared2FCBBoxHead', aux_head='linear')
            for stage_head in _base_.model.student.roi_head.bbox_head
        ])),
    distill_losses=dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=1.0)))
