"""Logit standardisation (Sun et al., CVPR 2024, "Logit Standardization in
Knowledge Distillation"), the ``logit_stand=True`` pre-process of KD, DKD and
BinaryKLNorm.

A softmax KD with one shared temperature asks the student to match the
teacher's logit range as well as their relations; z-scoring each sample's
logits first leaves only the relations to match.  The loss's temperature
then acts on the standardised logits (the paper's "base temperature").
"""
from torch import Tensor

from .utils import upcast

#: added to the standard deviation, as the official ``normalize`` does, so a
#: sample whose logits are all equal standardises to zeros
EPS = 1e-7


def standardize(logits: Tensor, eps: float = EPS) -> Tensor:
    """``(z - mean(z)) / (eps + std(z))`` over the last dim (the classes).

    The standard deviation is the unbiased one (Bessel's correction, as
    ``Tensor.std`` and so the official code computes it), in float32 at
    least.

    Args:
        logits: (N, C) logits, C >= 2.
        eps: added to the standard deviation.
    """
    if logits.shape[-1] < 2:
        raise ValueError(
            f'logit_stand=True standardises over the classes, but the logits '
            f'have {logits.shape[-1]} class (shape {tuple(logits.shape)}): '
            'set logit_stand=False for a one-class head')
    z = upcast(logits)
    mean = z.mean(dim=-1, keepdim=True)
    std = z.std(dim=-1, keepdim=True)
    return (z - mean) / (eps + std)
