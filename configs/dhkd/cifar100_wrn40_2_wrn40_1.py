# DHKD, wrn_40_2 -> wrn_40_1 on CIFAR-100 (mdistiller: KD 73.54, DKD 74.81).
_base_ = [
    '../_base_/dhkd_cifar100.py', '../_base_/teachers/cifar100_wrn_40_2.py'
]
model = dict(
    student=dict(network=dict(type='wrn_40_1')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt)
