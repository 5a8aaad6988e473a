# KD baseline for configs/dhkd/coco_faster_rcnn_r101_r50.py, its sibling on
# the same base (teacher, schedule, hooks): Hinton's KD (T=2) against the
# teacher's 81 logits on the student's sampled RoIs, put on the student's
# one (main) classifier, which keeps MMDetection's cross-entropy too.  The
# temperature and weight are those of the DHKD config's BinaryKLNorm, so
# that the two runs differ in where the distillation lands, not in how hard
# it pulls.  (The KD term carries its T^2.)
#
#   python tools/train.py configs/kd/coco_faster_rcnn_r101_r50.py
_base_ = '../_base_/distill_coco_faster_rcnn_r101_r50.py'

model = dict(
    distill_losses=dict(
        main=dict(type='KDLoss', temperature=2.0, loss_weight=1.0)))
