# DHKD, vgg13 -> vgg8 on CIFAR-100 (mdistiller: KD 72.98, DKD 74.68).
_base_ = '../_base_/dhkd_cifar100.py'
model = dict(
    student=dict(network=dict(type='vgg8')),
    teacher=dict(type='vgg13'),
    teacher_ckpt='checkpoints/cifar_teachers/vgg13_vanilla/'
    'ckpt_epoch_240.pth')
