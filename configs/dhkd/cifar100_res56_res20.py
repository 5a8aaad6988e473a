# DHKD, resnet56 -> resnet20 on CIFAR-100 (mdistiller: KD 70.66, DKD 71.97).
_base_ = [
    '../_base_/dhkd_cifar100.py', '../_base_/teachers/cifar100_resnet56.py'
]
model = dict(
    student=dict(network=dict(type='resnet20')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt)
