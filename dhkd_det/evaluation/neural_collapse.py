"""Neural-collapse metrics (Papyan, Han & Donoho, PNAS 2020) from running
per-class sums, so memory stays at C×d + d×d whatever the data set's size.

With features h (d,) of N samples in C classes, class means mu_c, the global
mean mu_G and the centred means M_c = mu_c - mu_G:

- NC1 = tr(Sigma_W Sigma_B^+) / C, the within-class variability over the
  between-class one (0 when every sample sits on its class mean);
- NC2: ``nc2_equinorm`` = std / mean of ||M_c||, ``nc2_equiangle`` = std of
  the cosines between different M_c, and ``nc2_etf`` = || M Mᵀ / ||M Mᵀ||_F
  - (I - 11ᵀ/C) / sqrt(C-1) ||_F, the distance of the means' Gram matrix to
  a simplex equiangular tight frame's (0 for a simplex ETF, at any scale
  and rotation);
- NC3 per linear head with class vectors W (C, d): || W / ||W||_F -
  M / ||M||_F ||_F, how far the head is from the class means (self-duality).
"""
from typing import Dict, Optional

import torch
from torch import Tensor


class ClassStats:
    """Running count, sum and total scatter Σ h hᵀ of features per class,
    in float64 on the features' device.  ``merge`` adds another process's
    sums (after an all-reduce, or a list of them)."""

    def __init__(self, num_classes: int, dim: int, device=None):
        kw = dict(dtype=torch.float64, device=device)
        self.counts = torch.zeros(num_classes, **kw)
        self.sums = torch.zeros(num_classes, dim, **kw)
        self.scatter = torch.zeros(dim, dim, **kw)

    def update(self, features: Tensor, labels: Tensor) -> None:
        """features (n, d), labels (n,) in 0..C-1."""
        h = features.detach().to(torch.float64).flatten(1)
        labels = labels.to(h.device, torch.long)
        self.counts.index_add_(0, labels, torch.ones_like(labels,
                                                          dtype=h.dtype))
        self.sums.index_add_(0, labels, h)
        self.scatter.addmm_(h.T, h)

    def tensors(self):
        return self.counts, self.sums, self.scatter


def neural_collapse(counts: Tensor, sums: Tensor, scatter: Tensor,
                    heads: Optional[Dict[str, Tensor]] = None
                    ) -> Dict[str, float]:
    """NC1, NC2 and NC3 (per head in ``heads``: name -> W (C, d)) of the
    sums of :class:`ClassStats`.  Classes without samples are left out."""
    present = counts > 0
    if int(present.sum()) < 2:
        raise ValueError('neural-collapse metrics need samples of at least '
                         f'2 classes, got {int(present.sum())}')
    n = counts[present]
    means = sums[present] / n[:, None]
    total = n.sum()
    num_classes = means.shape[0]
    centred = means - sums[present].sum(0) / total
    within = (scatter - (means.T * n) @ means) / total
    between = centred.T @ centred / num_classes
    nc1 = torch.trace(within @ torch.linalg.pinv(between, hermitian=True))
    norms = centred.norm(dim=1)
    unit = centred / norms[:, None].clamp_min(1e-12)
    cosines = (unit @ unit.T)[~torch.eye(num_classes, dtype=torch.bool,
                                         device=unit.device)]
    gram = centred @ centred.T
    etf = (torch.eye(num_classes, dtype=gram.dtype, device=gram.device) -
           1.0 / num_classes) / (num_classes - 1)**0.5
    metrics = dict(
        nc1=float(nc1 / num_classes),
        nc2_equinorm=float(norms.std() / norms.mean()),
        nc2_equiangle=float(cosines.std()),
        nc2_etf=float((gram / gram.norm() - etf).norm()))
    for name, weight in (heads or {}).items():
        w = weight.detach().to(centred)[present]
        metrics[f'nc3_{name}'] = float(
            (w / w.norm() - centred / centred.norm()).norm())
    return metrics
