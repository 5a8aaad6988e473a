# DHKD, resnet110 -> resnet32 on CIFAR-100 (mdistiller: KD 73.08, DKD 74.11).
_base_ = [
    '../_base_/dhkd_cifar100.py', '../_base_/teachers/cifar100_resnet110.py'
]
model = dict(
    student=dict(network=dict(type='resnet32')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt)
