# DKD + logit standardisation (Sun et al., CVPR 2024): both logit sets
# z-scored per sample before DKD's target / non-target split.  The official
# script for this pair sets T = 2 and multiplies alpha and beta by its KD
# weight 9 (alpha 9, beta 72); CE weight 1 and DKD's 20-epoch warm-up stay
# as in the DKD config.  (LS README: DKD 76.32 -> DKD + LS 77.01 top-1.)
_base_ = './cifar100_res32x4_res8x4.py'
model = dict(
    distill_losses=dict(
        main=dict(temperature=2.0, alpha=9.0, beta=72.0, logit_stand=True)))
