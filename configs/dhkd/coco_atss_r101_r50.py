# DHKD on COCO 2017 for ATSS: R101-FPN (MMDetection model zoo, 41.5 box AP)
# -> R50-FPN, 1x schedule.  The student's head gets a second classification
# conv `atss_cls_aux` on the class tower, trained only by BinaryKLNorm against
# the teacher's per-anchor sigmoid logits on the anchors ATSS's focal loss
# weighs (label weight > 0).
_base_ = '../_base_/distill_coco_atss_r101_r50.py'

model = dict(
    student=dict(bbox_head=dict(type='DualATSSHead')),
    distill_losses=dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=1.0)))
