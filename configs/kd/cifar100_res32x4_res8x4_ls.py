# KD + logit standardisation (Sun et al., CVPR 2024, "Logit Standardization
# in Knowledge Distillation"): both logit sets z-scored per sample before
# Hinton's KD.  The official CIFAR recipe for this pair (its README's
# `--logit-stand --base-temp 2 --kd-weight 9` over mdistiller's KD config):
# base temperature 2, KD weight 9, CE weight 0.1, on the single head.
# (LS README: KD 73.33 -> KD + LS 76.62 top-1.)
_base_ = [
    '../_base_/distill_cifar100.py',
    '../_base_/teachers/cifar100_resnet32x4.py'
]
model = dict(
    student=dict(network=dict(type='resnet8x4')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    task_losses=dict(main=dict(type='CELoss', loss_weight=0.1)),
    distill_losses=dict(
        main=dict(type='KDLoss', temperature=2.0, loss_weight=9.0,
                  logit_stand=True)))
