# DKD baseline (Zhao et al. 2022): alpha 1, beta 8, T 4, 20-epoch warm-up.
_base_ = '../dhkd/cifar100_res32x4_res8x4.py'
model = dict(
    student=dict(aux_head=None),
    distill_losses=dict(
        _delete_=True,
        main=dict(type='DKDLoss', temperature=4.0, alpha=1.0, beta=8.0)),
    eval_aux=False)
optim_wrapper = dict(type='OptimWrapper')
# LossGuardHook: stop on a NaN / exploding loss before it is saved
custom_hooks = [dict(type='DHKDHook', warmup_epochs=20),
                dict(type='LossGuardHook')]
