"""Registered nn.Module wrappers of the loss functions, built from configs.

The distillation loss protocol (``DistillLoss``, docs/architecture.md):
a distillation loss is called ``loss(student_logits, teacher_logits,
target=None)`` and returns ``loss_weight`` times its function's value (a
scalar tensor), logged as ``loss_<log_name>_<head>``; its arguments are
checked when it is built.  The distillers refuse, when they are built, a
loss that does not follow it (``check_distill_loss``).  The functions
themselves are the single implementation, shared by classification and
detection and by either head.  ``logit_stand=True`` (KD, DKD, BinaryKLNorm)
z-scores both logit sets first (``logit_stand.standardize``), the flag
named as in the official logit-standardisation code.
"""
import inspect
import math
import numbers

import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS

from .binary_kl import binary_kl, binary_kl_norm
from .dist import dist_loss
from .dkd import dkd_loss
from .kd import kd_loss
from .logit_stand import standardize


def check_number(owner: str, arg: str, value, positive: bool,
                 meaning: str):
    """``value`` of ``owner``'s argument ``arg``, unchanged when finite
    and > 0 (``positive``) or >= 0; else a ValueError naming the loss, the
    argument, the value and the fix."""
    rule = '> 0' if positive else '>= 0'
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) \
        and math.isfinite(value) and (value > 0 if positive else value >= 0)
    if not ok:
        raise ValueError(
            f'{owner}: {arg}={value!r} is not allowed: it must be a finite '
            f'number {rule} ({meaning}). Fix: set {arg} to such a number in '
            "the loss's config")
    return value


class DistillLoss(nn.Module):
    """The base of the distillation losses: ``forward(student_logits,
    teacher_logits, target=None)`` returns ``loss_weight * self.loss(z_s,
    z_t, target)``, on standardised logits when ``logit_stand``; the
    distiller logs it as ``loss_<log_name>_<head>``.

    A subclass sets ``log_name``, implements ``loss`` and checks its own
    hyper-parameters in ``__init__`` (``check_number``); ``loss_weight`` is
    checked here (finite, >= 0)."""
    #: short name in the logged loss key, e.g. ``loss_binary_kl_norm_aux``
    log_name = ''
    #: the hyper-parameters ``extra_repr`` shows next to the weight
    hyper_parameters = ()

    def __init__(self, loss_weight: float = 1.0, logit_stand: bool = False):
        super().__init__()
        self.loss_weight = self.checked('loss_weight', loss_weight, False,
                                        'the weight of the loss')
        self.logit_stand = logit_stand

    def checked(self, arg: str, value, positive: bool, meaning: str):
        """``check_number`` for this loss."""
        return check_number(type(self).__name__, arg, value, positive,
                            meaning)

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


#: what a temperature is, for the errors
TEMPERATURE = 'the temperature the logits are divided by'


def check_distill_loss(loss: nn.Module, where: str) -> None:
    """Refuses, naming ``where`` (e.g. ``model.distill_losses.aux``), a
    built loss that does not follow the distillation loss protocol: a
    non-empty ``log_name`` and a forward called ``(student_logits,
    teacher_logits, target=None)``.  A loss of another library (e.g.
    MMDetection's ``MSELoss``, ``forward(pred, target, weight, ...)``)
    would fail, or compute something else, at the first step."""
    name = type(loss).__name__
    fix = ('a distillation loss subclasses dhkd_det.losses.DistillLoss '
           '(log_name, loss(student_logits, teacher_logits, target)); wrap '
           'this one in such a class (docs/extending.md)')
    log_name = getattr(loss, 'log_name', None)
    if not isinstance(log_name, str) or not log_name:
        raise TypeError(f'{where}: {name} ({type(loss).__module__}) has no '
                        f'log_name, so it is not a distillation loss: {fix}')
    signature = inspect.signature(loss.forward)
    try:
        signature.bind(None, None, target=None)
    except TypeError:
        raise TypeError(f'{where}: {name}.forward{signature} cannot be '
                        'called as forward(student_logits, teacher_logits, '
                        f'target=...): {fix}') from None


@MODELS.register_module()
class BinaryKLNormLoss(DistillLoss):
    """DHKD's logit-level loss (the one the paper trains with).

    ``logit_stand=True`` is our extension (in neither paper): both logit
    sets z-scored before the loss, so the aux head matches the teacher's
    logits up to each sample's shift and scale."""
    log_name = 'binary_kl_norm'
    hyper_parameters = ('temperature', )

    def __init__(self, temperature: float = 2.0, loss_weight: float = 1.0,
                 logit_stand: bool = False):
        super().__init__(loss_weight, logit_stand)
        self.temperature = self.checked('temperature', temperature, True,
                                        TEMPERATURE)

    def loss(self, student_logits, teacher_logits, target):
        return binary_kl_norm(student_logits, teacher_logits,
                              self.temperature)


@MODELS.register_module()
class BinaryKLLoss(DistillLoss):
    log_name = 'binary_kl'
    hyper_parameters = ('temperature', )

    def __init__(self, temperature: float = 2.0, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.temperature = self.checked('temperature', temperature, True,
                                        TEMPERATURE)

    def loss(self, student_logits, teacher_logits, target):
        return binary_kl(student_logits, teacher_logits, self.temperature)


@MODELS.register_module()
class KDLoss(DistillLoss):
    """Hinton KD; with ``logit_stand=True`` the KD + LS of Sun et al. (whose
    CIFAR recipe also changes T to 2 and the weights: configs/kd/*_ls.py)."""
    log_name = 'kd'
    hyper_parameters = ('temperature', )

    def __init__(self, temperature: float = 4.0, loss_weight: float = 1.0,
                 logit_stand: bool = False):
        super().__init__(loss_weight, logit_stand)
        self.temperature = self.checked('temperature', temperature, True,
                                        TEMPERATURE)

    def loss(self, student_logits, teacher_logits, target):
        return kd_loss(student_logits, teacher_logits, self.temperature)


@MODELS.register_module()
class DKDLoss(DistillLoss):
    """DKD; its 20-epoch warm-up is a ``DistillScheduleHook(warmup_epochs=20)``
    in the DKD config (configs/dkd/).  ``logit_stand=True`` standardises
    before the target / non-target split, as the official LS code does."""
    log_name = 'dkd'
    hyper_parameters = ('temperature', 'alpha', 'beta')

    def __init__(self, temperature: float = 4.0, alpha: float = 1.0,
                 beta: float = 8.0, loss_weight: float = 1.0,
                 logit_stand: bool = False):
        super().__init__(loss_weight, logit_stand)
        self.temperature = self.checked('temperature', temperature, True,
                                        TEMPERATURE)
        self.alpha = self.checked('alpha', alpha, False,
                                  'the weight of the target-class term')
        self.beta = self.checked('beta', beta, False,
                                 'the weight of the non-target-class term')

    def loss(self, student_logits, teacher_logits, target):
        return dkd_loss(student_logits, teacher_logits, self.temperature,
                        target=target, alpha=self.alpha, beta=self.beta)


@MODELS.register_module()
class DISTLoss(DistillLoss):
    """DIST (Huang et al., NeurIPS 2022): inter- plus intra-class Pearson
    relations of ``softmax(z / tau)``; the official CIFAR recipe is
    ``tau=4, beta=1, gamma=1, loss_weight=2`` next to CE weight 1."""
    log_name = 'dist'
    hyper_parameters = ('tau', 'beta', 'gamma')

    def __init__(self, tau: float = 1.0, beta: float = 1.0,
                 gamma: float = 1.0, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.tau = self.checked('tau', tau, True, TEMPERATURE)
        self.beta = self.checked('beta', beta, False,
                                 'the weight of the inter-class relation')
        self.gamma = self.checked('gamma', gamma, False,
                                  'the weight of the intra-class relation')

    def loss(self, student_logits, teacher_logits, target):
        return dist_loss(student_logits, teacher_logits, self.tau,
                         self.beta, self.gamma)


@MODELS.register_module(name='CELoss')
class CrossEntropyLoss(nn.Module):
    """Label cross-entropy (the task loss of the main head)."""
    log_name = 'ce'

    def __init__(self, loss_weight: float = 1.0, label_smoothing: float = 0.0):
        super().__init__()
        self.loss_weight = check_number('CELoss', 'loss_weight', loss_weight,
                                        False, 'the weight of the loss')
        self.label_smoothing = label_smoothing

    def forward(self, logits, target):
        return self.loss_weight * F.cross_entropy(
            logits, target, label_smoothing=self.label_smoothing)
