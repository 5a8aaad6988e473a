# DHKD, resnet56 -> resnet20 on CIFAR-100 (mdistiller: KD 70.66, DKD 71.97).
_base_ = '../_base_/dhkd_cifar100.py'
model = dict(
    student=dict(network=dict(type='resnet20')),
    teacher=dict(type='resnet56'),
    teacher_ckpt='checkpoints/cifar_teachers/resnet56_vanilla/'
    'ckpt_epoch_240.pth')
