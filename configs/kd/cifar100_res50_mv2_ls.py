# KD + logit standardisation (Sun et al., CVPR 2024), ResNet50 -> MobileNetV2:
# CE weight 0.1 as configs/kd/cifar100_res32x4_res8x4_ls.py, with the base
# temperature 3 and KD weight 1 that logit-standardization-KD's README
# names in the log of this pair's published number.
_base_ = [
    '../_base_/distill_cifar100.py',
    '../_base_/teachers/cifar100_ResNet50.py'
]
model = dict(
    student=dict(network=dict(type='MobileNetV2')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    task_losses=dict(main=dict(type='CELoss', loss_weight=0.1)),
    distill_losses=dict(
        main=dict(type='KDLoss', temperature=3.0, loss_weight=1.0,
                  logit_stand=True)))
# MobileNetV2 / ShuffleNet students use lr 0.01 in the recipe
optim_wrapper = dict(optimizer=dict(lr=0.01))
