# DKD baseline (Zhao et al. 2022): alpha 1, beta 8, T 4 on the single head,
# and DKD's 20-epoch linear warm-up of the loss, which is part of DKD and so
# lives here.  (mdistiller: 76.32 top-1)
_base_ = [
    '../_base_/distill_cifar100.py',
    '../_base_/teachers/cifar100_resnet32x4.py'
]
model = dict(
    student=dict(network=dict(type='resnet8x4')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    distill_losses=dict(
        main=dict(type='DKDLoss', temperature=4.0, alpha=1.0, beta=8.0)))
custom_hooks = _base_.custom_hooks + [
    dict(type='DistillScheduleHook', warmup_epochs=20)
]
