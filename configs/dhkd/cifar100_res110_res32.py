# DHKD, resnet110 -> resnet32 on CIFAR-100 (mdistiller: KD 73.08, DKD 74.11).
_base_ = '../_base_/dhkd_cifar100.py'
model = dict(
    student=dict(network=dict(type='resnet32')),
    teacher=dict(type='resnet110'),
    teacher_ckpt='checkpoints/cifar_teachers/resnet110_vanilla/'
    'ckpt_epoch_240.pth')
