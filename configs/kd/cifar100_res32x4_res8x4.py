# KD baseline (Hinton, T=4) with CRD's / mdistiller's weights, CE 0.1 and
# KD 0.9 (the KD term carries its T^2): single-head student, both losses on
# the same fc.  (mdistiller: 73.33 top-1)
_base_ = [
    '../_base_/distill_cifar100.py',
    '../_base_/teachers/cifar100_resnet32x4.py'
]
model = dict(
    student=dict(network=dict(type='resnet8x4')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    task_losses=dict(main=dict(type='CELoss', loss_weight=0.1)),
    distill_losses=dict(
        main=dict(type='KDLoss', temperature=4.0, loss_weight=0.9)))
