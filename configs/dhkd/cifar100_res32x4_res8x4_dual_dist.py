# "Dual head + DIST": DIST (Huang et al., NeurIPS 2022) on the aux head
# instead of BinaryKLNorm, with DIST's CIFAR hyper-parameters (tau 4, beta 1,
# gamma 1, weight 2); CE stays alone on the main head.  Not in either paper,
# so no published number (DIST alone on one head: 76.31).
_base_ = './cifar100_res32x4_res8x4.py'
model = dict(
    distill_losses=dict(
        _delete_=True,
        aux=dict(type='DISTLoss', tau=4.0, beta=1.0, gamma=1.0,
                 loss_weight=2.0)))
