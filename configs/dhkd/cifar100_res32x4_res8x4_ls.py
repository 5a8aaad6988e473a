# DHKD + logit standardisation: BinaryKLNorm on the aux head with both logit
# sets z-scored per sample first (logit_stand=True, the flag of Sun et al.,
# CVPR 2024).  LS on BinaryKLNorm is our extension, in neither paper, so no
# published number; T and the weight stay DHKD's (2 and 1), untuned.
_base_ = './cifar100_res32x4_res8x4.py'
model = dict(
    distill_losses=dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=1.0,
                 logit_stand=True)))
