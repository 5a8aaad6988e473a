# DKD baseline (Zhao et al. 2022), resnet56 -> resnet20: alpha 1, T 4 and the
# 20-epoch warm-up of configs/dkd/cifar100_res32x4_res8x4.py, with beta
# 2, the beta of mdistiller's configs/cifar100/dkd/ for this pair.
_base_ = [
    '../_base_/distill_cifar100.py',
    '../_base_/teachers/cifar100_resnet56.py'
]
model = dict(
    student=dict(network=dict(type='resnet20')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    distill_losses=dict(
        main=dict(type='DKDLoss', temperature=4.0, alpha=1.0, beta=2.0)))
custom_hooks = _base_.custom_hooks + [
    dict(type='DistillScheduleHook', warmup_epochs=20)
]
