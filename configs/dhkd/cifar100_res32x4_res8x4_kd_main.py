# "DHKD + KD": KD's main head (CE 0.1 + KD T=4 0.9, mdistiller's CFG.KD, as
# configs/kd/cifar100_res32x4_res8x4.py) plus DHKD's aux head (BinaryKLNorm
# T=2, weight 1), no gradient alignment.  The sweep's method `dhkd_kd`.
_base_ = './cifar100_res32x4_res8x4.py'
model = dict(
    task_losses=dict(main=dict(type='CELoss', loss_weight=0.1)),
    # the main head's loss first, as the losses are summed in this order
    distill_losses=dict(
        _delete_=True,
        main=dict(type='KDLoss', temperature=4.0, loss_weight=0.9),
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=1.0)))
optim_wrapper = dict(type='OptimWrapper')
