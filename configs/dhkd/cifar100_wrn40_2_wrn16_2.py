# DHKD, wrn_40_2 -> wrn_16_2 on CIFAR-100 (mdistiller: KD 74.92, DKD 76.23).
_base_ = [
    '../_base_/dhkd_cifar100.py', '../_base_/teachers/cifar100_wrn_40_2.py'
]
model = dict(
    student=dict(network=dict(type='wrn_16_2')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt)
