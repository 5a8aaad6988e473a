"""Registered nn.Module wrappers of the loss functions, built from configs.

Each takes ``(student_logits, teacher_logits, target=None)`` and returns
``loss_weight`` times its function's value; the functions themselves are the
single implementation, shared by classification and detection and by either
head.  ``logit_stand=True`` (KD, DKD, BinaryKLNorm) z-scores both logit sets
first (``logit_stand.standardize``), the flag named as in the official
logit-standardisation code.
"""
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS

from .binary_kl import binary_kl, binary_kl_norm
from .dist import dist_loss
from .dkd import dkd_loss
from .kd import kd_loss
from .logit_stand import standardize


class _DistillLoss(nn.Module):
    """``loss_weight * self.loss(z_s, z_t, target)``, on standardised
    logits when ``logit_stand``."""
    #: short name in the logged loss key, e.g. ``loss_binary_kl_norm_aux``
    log_name = ''
    #: the hyper-parameters ``extra_repr`` shows next to the weight
    hyper_parameters = ()

    def __init__(self, loss_weight: float = 1.0, logit_stand: bool = False):
        super().__init__()
        self.loss_weight = loss_weight
        self.logit_stand = logit_stand

    def forward(self, student_logits, teacher_logits, target=None):
        if self.logit_stand:
            student_logits = standardize(student_logits)
            teacher_logits = standardize(teacher_logits)
        return self.loss_weight * self.loss(student_logits, teacher_logits,
                                            target)

    def loss(self, student_logits, teacher_logits, target):
        raise NotImplementedError

    def extra_repr(self):
        shown = self.hyper_parameters + ('loss_weight', ) + (
            ('logit_stand', ) if self.logit_stand else ())
        return ', '.join(f'{k}={getattr(self, k)}' for k in shown)


@MODELS.register_module()
class BinaryKLNormLoss(_DistillLoss):
    """DHKD's logit-level loss (the one the paper trains with).

    ``logit_stand=True`` is our extension (in neither paper): both logit
    sets z-scored before the loss, so the aux head matches the teacher's
    logits up to each sample's shift and scale."""
    log_name = 'binary_kl_norm'
    hyper_parameters = ('temperature', )

    def __init__(self, temperature: float = 2.0, loss_weight: float = 1.0,
                 logit_stand: bool = False):
        super().__init__(loss_weight, logit_stand)
        self.temperature = temperature

    def loss(self, student_logits, teacher_logits, target):
        return binary_kl_norm(student_logits, teacher_logits,
                              self.temperature)


@MODELS.register_module()
class BinaryKLLoss(_DistillLoss):
    log_name = 'binary_kl'
    hyper_parameters = ('temperature', )

    def __init__(self, temperature: float = 2.0, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.temperature = temperature

    def loss(self, student_logits, teacher_logits, target):
        return binary_kl(student_logits, teacher_logits, self.temperature)


@MODELS.register_module()
class KDLoss(_DistillLoss):
    """Hinton KD; with ``logit_stand=True`` the KD + LS of Sun et al. (whose
    CIFAR recipe also changes T to 2 and the weights: configs/kd/*_ls.py)."""
    log_name = 'kd'
    hyper_parameters = ('temperature', )

    def __init__(self, temperature: float = 4.0, loss_weight: float = 1.0,
                 logit_stand: bool = False):
        super().__init__(loss_weight, logit_stand)
        self.temperature = temperature

    def loss(self, student_logits, teacher_logits, target):
        return kd_loss(student_logits, teacher_logits, self.temperature)


@MODELS.register_module()
class DKDLoss(_DistillLoss):
    """DKD; its 20-epoch warm-up is a ``DistillScheduleHook(warmup_epochs=20)``
    in the DKD config (configs/dkd/).  ``logit_stand=True`` standardises
    before the target / non-target split, as the official LS code does."""
    log_name = 'dkd'
    hyper_parameters = ('temperature', 'alpha', 'beta')

    def __init__(self, temperature: float = 4.0, alpha: float = 1.0,
                 beta: float = 8.0, loss_weight: float = 1.0,
                 logit_stand: bool = False):
        super().__init__(loss_weight, logit_stand)
        self.temperature = temperature
        self.alpha = alpha
        self.beta = beta

    def loss(self, student_logits, teacher_logits, target):
        return dkd_loss(student_logits, teacher_logits, self.temperature,
                        target=target, alpha=self.alpha, beta=self.beta)


@MODELS.register_module()
class DISTLoss(_DistillLoss):
    """DIST (Huang et al., NeurIPS 2022): inter- plus intra-class Pearson
    relations of ``softmax(z / tau)``; the official CIFAR recipe is
    ``tau=4, beta=1, gamma=1, loss_weight=2`` next to CE weight 1."""
    log_name = 'dist'
    hyper_parameters = ('tau', 'beta', 'gamma')

    def __init__(self, tau: float = 1.0, beta: float = 1.0,
                 gamma: float = 1.0, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.tau = tau
        self.beta = beta
        self.gamma = gamma

    def loss(self, student_logits, teacher_logits, target):
        return dist_loss(student_logits, teacher_logits, self.tau,
                         self.beta, self.gamma)


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
