"""Registered nn.Module wrappers of the loss functions, built from configs.

Each takes ``(student_logits, teacher_logits, **kwargs)`` and returns
``loss_weight * fn(...)``; the functions themselves are the single
implementation, shared by classification and detection.
"""
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS

from .binary_kl import binary_kl, binary_kl_norm
from .dkd import dkd_loss
from .kd import kd_loss


class _DistillLoss(nn.Module):
    fn = None
    #: short name in the logged loss key, e.g. ``loss_binary_kl_norm_aux``
    log_name = ''

    def __init__(self, temperature: float, loss_weight: float = 1.0):
        super().__init__()
        self.temperature = temperature
        self.loss_weight = loss_weight

    def forward(self, student_logits, teacher_logits, target=None):
        return self.loss_weight * type(self).fn(student_logits,
                                                 teacher_logits,
                                                 self.temperature)

    def extra_repr(self):
        return f'temperature={self.temperature}, loss_weight={self.loss_weight}'


@MODELS.register_module()
class BinaryKLNormLoss(_DistillLoss):
    """DHKD's logit-level loss (the one the paper trains with)."""
    fn = staticmethod(binary_kl_norm)
    log_name = 'binary_kl_norm'

    def __init__(self, temperature: float = 2.0, loss_weight: float = 1.0):
        super().__init__(temperature, loss_weight)


@MODELS.register_module()
class BinaryKLLoss(_DistillLoss):
    fn = staticmethod(binary_kl)
    log_name = 'binary_kl'

    def __init__(self, temperature: float = 2.0, loss_weight: float = 1.0):
        super().__init__(temperature, loss_weight)


@MODELS.register_module()
class KDLoss(_DistillLoss):
    fn = staticmethod(kd_loss)
    log_name = 'kd'

    def __init__(self, temperature: float = 4.0, loss_weight: float = 1.0):
        super().__init__(temperature, loss_weight)


@MODELS.register_module()
class DKDLoss(_DistillLoss):
    """DKD; its 20-epoch warm-up is a ``DistillScheduleHook(warmup_epochs=20)``
    in the DKD config (configs/dkd/)."""
    log_name = 'dkd'

    def __init__(self, temperature: float = 4.0, alpha: float = 1.0,
                 beta: float = 8.0, loss_weight: float = 1.0):
        super().__init__(temperature, loss_weight)
        self.alpha = alpha
        self.beta = beta

    def forward(self, student_logits, teacher_logits, target=None):
        return self.loss_weight * dkd_loss(
            student_logits, teacher_logits, self.temperature, target=target,
            alpha=self.alpha, beta=self.beta)


@MODELS.register_module(name='CELoss')
class CrossEntropyLoss(nn.Module):
    """Label cross-entropy (the task loss of the main head)."""
    log_name = 'ce'

    def __init__(self, loss_weight: float = 1.0, label_smoothing: float = 0.0):
        super().__init__()
        self.loss_weight = loss_weight
        self.label_smoothing = label_smoothing

    def forward(self, logits, target):
        return self.loss_weight * F.cross_entropy(
            logits, target, label_smoothing=self.label_smoothing)
