# "Dual head + KD": KD (T=4) on the aux head instead of BinaryKLNorm, the
# paper's ablation of the logit-level loss.
_base_ = './cifar100_res32x4_res8x4.py'
model = dict(
    distill_losses=dict(
        _delete_=True,
        aux=dict(type='KDLoss', temperature=4.0, loss_weight=1.0)))
