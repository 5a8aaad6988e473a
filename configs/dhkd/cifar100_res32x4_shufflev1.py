# DHKD, resnet32x4 -> ShuffleV1 on CIFAR-100 (mdistiller: KD 74.07, DKD 76.45).
_base_ = [
    '../_base_/dhkd_cifar100.py', '../_base_/teachers/cifar100_resnet32x4.py'
]
model = dict(
    student=dict(network=dict(type='ShuffleV1')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt)
# MobileNetV2 / ShuffleNet students use lr 0.01 in the recipe
optim_wrapper = dict(optimizer=dict(lr=0.01))
