# DHKD on COCO 2017 for FCOS (anchor-free): R101-caffe-FPN, GN head
# (MMDetection model zoo, 39.1 box AP) -> R50-caffe-FPN, 1x schedule.  The
# student's head gets a second classification conv `conv_cls_aux` on the
# class tower, trained only by BinaryKLNorm against the teacher's per-point
# sigmoid logits on every point (FCOS's focal loss covers them all).
_base_ = '../_base_/distill_coco_fcos_r101_r50.py'

model = dict(
    student=dict(bbox_head=dict(type='DualFCOSHead')),
    distill_losses=dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=1.0)))
