# DHKD, wrn_40_2 -> wrn_40_1 on CIFAR-100 (mdistiller: KD 73.54, DKD 74.81).
_base_ = '../_base_/dhkd_cifar100.py'
model = dict(
    student=dict(network=dict(type='wrn_40_1')),
    teacher=dict(type='wrn_40_2'),
    teacher_ckpt='checkpoints/cifar_teachers/wrn_40_2_vanilla/'
    'ckpt_epoch_240.pth')
