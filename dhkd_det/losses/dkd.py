"""Decoupled knowledge distillation (Zhao et al., CVPR 2022), a baseline."""
import torch
import torch.nn.functional as F
from torch import Tensor

from .utils import check_shapes, upcast


def dkd_loss(student_logits: Tensor,
             teacher_logits: Tensor,
             temperature: float = 4.0,
             target: Tensor = None,
             alpha: float = 1.0,
             beta: float = 8.0) -> Tensor:
    """alpha * TCKD + beta * NCKD, as mdistiller's ``dkd_loss``.

    TCKD is the KL of the binary (target, non-target) distributions; NCKD the
    KL among non-target classes, the target logit masked out with -1000 as in
    the reference.  Both scaled by T^2 and averaged over the batch.
    """
    check_shapes(student_logits, teacher_logits)
    if target is None:
        raise ValueError('dkd_loss needs the ground-truth labels (target=...)')
    T = temperature
    zs = upcast(student_logits)
    zt = upcast(teacher_logits.detach())
    gt = F.one_hot(target.long(), zs.shape[-1]).bool()
    ps = F.softmax(zs / T, dim=-1)
    pt = F.softmax(zt / T, dim=-1)
    # binary (target vs. rest) probabilities
    bs = torch.stack([(ps * gt).sum(-1), (ps * ~gt).sum(-1)], dim=-1)
    bt = torch.stack([(pt * gt).sum(-1), (pt * ~gt).sum(-1)], dim=-1)
    log_bs = torch.log(bs.clamp_min(1e-12))
    tckd = (bt * (torch.log(bt.clamp_min(1e-12)) - log_bs)).sum(-1).mean()
    log_ps_nt = F.log_softmax(zs / T - 1000.0 * gt, dim=-1)
    log_pt_nt = F.log_softmax(zt / T - 1000.0 * gt, dim=-1)
    nckd = (log_pt_nt.exp() * (log_pt_nt - log_ps_nt)).sum(-1).mean()
    return (alpha * tckd + beta * nckd) * T ** 2
