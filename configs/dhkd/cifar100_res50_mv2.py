# DHKD, ResNet50 -> MobileNetV2 on CIFAR-100 (mdistiller: KD 67.35, DKD 70.35).
_base_ = [
    '../_base_/dhkd_cifar100.py', '../_base_/teachers/cifar100_ResNet50.py'
]
model = dict(
    student=dict(network=dict(type='MobileNetV2')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt)
# MobileNetV2 / ShuffleNet students use lr 0.01 in the recipe
optim_wrapper = dict(optimizer=dict(lr=0.01))
