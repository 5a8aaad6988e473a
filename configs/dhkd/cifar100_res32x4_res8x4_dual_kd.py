# "Dual head + KD": KD (T=4) on the aux head in place of DHKD's
# BinaryKLNorm, the paper's ablation of the logit-level loss (the rest is
# the DHKD pair's).
_base_ = './cifar100_res32x4_res8x4.py'
model = dict(
    distill_losses=dict(
        aux=dict(_delete_=True, type='KDLoss', temperature=4.0,
                 loss_weight=1.0)))
