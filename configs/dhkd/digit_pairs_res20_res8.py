# DHKD, resnet20 -> resnet8 on the digit-pairs benchmark (docs/study.md):
# the reference quick start (CE on the main head, BinaryKLNorm T=2 on a
# nonlinear aux head, gradient alignment) by the 24-epoch study recipe,
# with the gradient and neural-collapse diagnostics logged (every 20
# iterations, the logger's interval, so each logged cosine is fresh).
# configs/sweeps/digit_pairs_study.py trains every method on this pair.
_base_ = [
    '../_base_/distill_digit_pairs.py',
    '../_base_/teachers/digit_pairs_resnet20.py'
]
model = dict(
    student=dict(network=dict(type='resnet8'), aux_head='nonlinear'),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt,
    distill_losses=dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=1.0)),
    eval_aux=True)
optim_wrapper = dict(type='GradAlignOptimWrapper')
custom_hooks = _base_.custom_hooks + [
    dict(type='NeuralCollapseHook'),
    dict(type='GradDiagnosticsHook', interval=20)
]
default_hooks = dict(logger=dict(interval=20))
