# DHKD on ImageNet (the reference recipe): CE on the main head, BinaryKLNorm
# (T=2, alpha=0.1) on a linear aux head, the aux loss off after epoch 50.
# Pair configs set the student network and inherit the teacher's base.
_base_ = 'distill_imagenet.py'
model = dict(
    student=dict(aux_head='linear'),
    distill_losses=dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=0.1)),
    eval_aux=True)
custom_hooks = _base_.custom_hooks + [
    dict(type='DistillScheduleHook', stop_epoch=50)
]
