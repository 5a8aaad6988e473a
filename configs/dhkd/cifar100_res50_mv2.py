# DHKD, ResNet50 -> MobileNetV2 on CIFAR-100 (mdistiller: KD 67.35, DKD 70.35).
_base_ = '../_base_/dhkd_cifar100.py'
model = dict(
    student=dict(network=dict(type='MobileNetV2')),
    teacher=dict(type='ResNet50'),
    teacher_ckpt='checkpoints/cifar_teachers/ResNet50_vanilla/'
    'ckpt_epoch_240.pth')
# MobileNetV2 / ShuffleNet students use lr 0.01 in the recipe
optim_wrapper = dict(optimizer=dict(lr=0.01))
