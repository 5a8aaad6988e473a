# DHKD, vgg13 -> vgg8 on CIFAR-100 (mdistiller: KD 72.98, DKD 74.68).
_base_ = [
    '../_base_/dhkd_cifar100.py', '../_base_/teachers/cifar100_vgg13.py'
]
model = dict(
    student=dict(network=dict(type='vgg8')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt)
