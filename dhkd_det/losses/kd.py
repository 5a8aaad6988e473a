"""Hinton et al. knowledge distillation (probability level)."""
import torch.nn.functional as F
from torch import Tensor

from .utils import check_shapes, upcast


def kd_loss(student_logits: Tensor,
            teacher_logits: Tensor,
            temperature: float = 4.0) -> Tensor:
    """T^2 * KL(softmax(z_t/T) || softmax(z_s/T)), summed over classes,
    mean over the batch (the last dim holds the classes)."""
    check_shapes(student_logits, teacher_logits)
    log_ps = F.log_softmax(upcast(student_logits) / temperature, dim=-1)
    log_pt = F.log_softmax(upcast(teacher_logits.detach()) / temperature,
                           dim=-1)
    kl = (log_pt.exp() * (log_pt - log_ps)).sum(-1)
    return kl.mean() * temperature ** 2
