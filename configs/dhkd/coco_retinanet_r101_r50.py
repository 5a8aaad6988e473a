# DHKD on COCO 2017 for a one-stage detector: RetinaNet R101-FPN (MMDetection
# model zoo, 38.9 box AP) -> R50-FPN, 2x schedule.  The student's head gets
# a second classification conv `retina_cls_aux` on the class tower, trained
# only by BinaryKLNorm against the teacher's per-anchor sigmoid logits on the
# anchors the focal loss uses (valid, not ignored).
_base_ = '../_base_/distill_coco_retinanet_r101_r50.py'

model = dict(
    student=dict(bbox_head=dict(type='DualRetinaHead')),
    distill_losses=dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=1.0)))
