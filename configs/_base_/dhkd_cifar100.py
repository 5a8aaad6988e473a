# DHKD on CIFAR-100 (the reference quick start): CE on the main head,
# BinaryKLNorm (T=2, alpha=1) on a nonlinear aux head, gradient alignment.
# Pair configs set the student network and take the teacher (and its
# checkpoint) from a base in teachers/.
_base_ = 'distill_cifar100.py'
model = dict(
    student=dict(aux_head='nonlinear'),
    distill_losses=dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=1.0)),
    eval_aux=True)
optim_wrapper = dict(type='GradAlignOptimWrapper')
