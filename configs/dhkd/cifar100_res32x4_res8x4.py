# DHKD, ResNet32x4 -> ResNet8x4 on CIFAR-100 (mdistiller: KD 73.33, DKD 76.32).
_base_ = '../_base_/dhkd_cifar100.py'
model = dict(
    student=dict(network=dict(type='resnet8x4')),
    teacher=dict(type='resnet32x4'),
    teacher_ckpt='checkpoints/cifar_teachers/resnet32x4_vanilla/'
    'ckpt_epoch_240.pth')
