# DIST (Huang et al., NeurIPS 2022, "Knowledge Distillation from A Stronger
# Teacher"): inter- plus intra-class Pearson relations of softmax(z / tau).
# The official CIFAR recipe (image_classification_sota's dist_cifar.yaml,
# kd 'dist_t4'): tau 4, beta 1, gamma 1, DIST weight 2, CE weight 1, on the
# single head.  Its schedule (240 epochs, SGD 0.05, batch 64, weight decay
# 5e-4, a constant-lr 'warm-up' of 120 epochs then x0.1 every 30) is the
# base's x0.1 at 150 / 180 / 210.  (DIST README: 76.31 +- 0.19 top-1.)
_base_ = [
    '../_base_/distill_cifar100.py',
    '../_base_/teachers/cifar100_resnet32x4.py'
]
model = dict(
    student=dict(network=dict(type='resnet8x4')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    distill_losses=dict(
        main=dict(type='DISTLoss', tau=4.0, beta=1.0, gamma=1.0,
                  loss_weight=2.0)))
