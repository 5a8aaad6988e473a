"""DIST (Huang et al., NeurIPS 2022, "Knowledge Distillation from A Stronger
Teacher"): match the *relations* of the softened probabilities rather than
the probabilities themselves, so a student far weaker than its teacher is
not pushed to reproduce its exact values.

Both relations are Pearson correlations of ``softmax(z / tau)``: across the
classes of each sample (inter-class) and across the samples of each class
(intra-class, within the batch).
"""
from torch import Tensor

from .utils import check_shapes, upcast

#: added to the product of the norms, as the official ``cosine_similarity``
#: does, so a constant vector correlates 0 with anything
EPS = 1e-8


def pearson(a: Tensor, b: Tensor, eps: float = EPS) -> Tensor:
    """Row-wise Pearson correlation of two (R, K) tensors: the cosine
    similarity of the mean-centred rows, ``eps`` added to the product of
    their norms.  Returns (R,)."""
    a = a - a.mean(dim=1, keepdim=True)
    b = b - b.mean(dim=1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + eps)


def dist_loss(student_logits: Tensor,
              teacher_logits: Tensor,
              tau: float = 1.0,
              beta: float = 1.0,
              gamma: float = 1.0) -> Tensor:
    """``tau^2 * (beta * inter + gamma * intra)`` with ``y = softmax(z/tau)``,
    ``inter = 1 - mean_n pearson(y_s[n, :], y_t[n, :])`` and
    ``intra = 1 - mean_c pearson(y_s[:, c], y_t[:, c])``.

    The intra-class term correlates over the batch: with one sample it is a
    constant 1 with no gradient (as in the official code).

    Args:
        student_logits: (N, C) student logits.
        teacher_logits: (N, C) teacher logits (no gradient taken).
        tau: temperature of the softmax.
        beta: weight of the inter-class relation.
        gamma: weight of the intra-class relation.
    Returns:
        A scalar.
    """
    check_shapes(student_logits, teacher_logits)
    if student_logits.dim() != 2:
        raise ValueError(
            f'DISTLoss takes (N, C) logits, got shape '
            f'{tuple(student_logits.shape)}: its intra-class relation '
            'correlates each class over the first dim')
    ys = (upcast(student_logits) / tau).softmax(dim=1)
    yt = (upcast(teacher_logits.detach()) / tau).softmax(dim=1)
    inter = 1 - pearson(ys, yt).mean()
    intra = 1 - pearson(ys.t(), yt.t()).mean()
    return tau ** 2 * (beta * inter + gamma * intra)
