# DHKD, wrn_40_2 -> wrn_16_2 on CIFAR-100 (mdistiller: KD 74.92, DKD 76.23).
_base_ = '../_base_/dhkd_cifar100.py'
model = dict(
    student=dict(network=dict(type='wrn_16_2')),
    teacher=dict(type='wrn_40_2'),
    teacher_ckpt='checkpoints/cifar_teachers/wrn_40_2_vanilla/'
    'ckpt_epoch_240.pth')
