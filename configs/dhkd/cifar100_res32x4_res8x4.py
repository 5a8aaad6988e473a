# DHKD, ResNet32x4 -> ResNet8x4 on CIFAR-100 (mdistiller: KD 73.33, DKD 76.32).
_base_ = [
    '../_base_/dhkd_cifar100.py', '../_base_/teachers/cifar100_resnet32x4.py'
]
model = dict(
    student=dict(network=dict(type='resnet8x4')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt)
