# KD baseline (Hinton, T=4) with CRD's / mdistiller's weights, CE 0.1 and
# KD 0.9 (the KD term carries its T^2): single-head student, both losses on
# the same fc.
_base_ = '../dhkd/cifar100_res32x4_res8x4.py'
model = dict(
    student=dict(aux_head=None),
    task_losses=dict(main=dict(type='CELoss', loss_weight=0.1)),
    distill_losses=dict(
        _delete_=True,
        main=dict(type='KDLoss', temperature=4.0, loss_weight=0.9)),
    eval_aux=False)
optim_wrapper = dict(type='OptimWrapper')
