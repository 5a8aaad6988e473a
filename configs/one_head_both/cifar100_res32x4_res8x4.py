# DHKD's two losses on one shared head, the paper's motivating failure: CE
# (1) and BinaryKLNorm (T=2, weight 1) both on the student's single
# classifier, no aux head, no gradient alignment.  The sweep's method
# `one_head_both`.
_base_ = [
    '../_base_/distill_cifar100.py',
    '../_base_/teachers/cifar100_resnet32x4.py'
]
model = dict(
    student=dict(network=dict(type='resnet8x4')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    distill_losses=dict(
        main=dict(type='BinaryKLNormLoss', temperature=2.0,
                  loss_weight=1.0)))
