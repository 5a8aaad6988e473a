# DHKD on COCO 2017: Faster R-CNN R101-FPN (MMDetection model zoo, 39.8 box
# AP) -> R50-FPN, MMDetection's 2x schedule.  The student's box head gets a
# second classifier `fc_cls_aux`, trained only by BinaryKLNorm against the
# teacher's 81 logits on the student's sampled RoIs; the main head keeps
# MMDetection's losses and makes the predictions.
#
#   python tools/train.py configs/dhkd/coco_faster_rcnn_r101_r50.py
#   bash tools/dist_train.sh configs/dhkd/coco_faster_rcnn_r101_r50.py 8
_base_ = '../_base_/distill_coco_faster_rcnn_r101_r50.py'

model = dict(
    student=dict(
        roi_head=dict(
            bbox_head=dict(type='DualShared2FCBBoxHead', aux_head='linear'))),
    distill_losses=dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=1.0)))
