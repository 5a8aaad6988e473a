# DHKD, resnet32x4 -> ShuffleV1 on CIFAR-100 (mdistiller: KD 74.07, DKD 76.45).
_base_ = '../_base_/dhkd_cifar100.py'
model = dict(
    student=dict(network=dict(type='ShuffleV1')),
    teacher=dict(type='resnet32x4'),
    teacher_ckpt='checkpoints/cifar_teachers/resnet32x4_vanilla/'
    'ckpt_epoch_240.pth')
# MobileNetV2 / ShuffleNet students use lr 0.01 in the recipe
optim_wrapper = dict(optimizer=dict(lr=0.01))
