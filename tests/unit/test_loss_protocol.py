"""The distillation loss protocol (docs/architecture.md, "The loss
protocol"): every distillation loss checks its arguments when built, and
the distiller refuses, when it is built, a loss that does not follow the
protocol, naming the head, the loss and the fix."""
import math

import pytest
import torch
from mmengine.registry import MODELS

import dhkd_det  # noqa: F401
from dhkd_det.losses import (BinaryKLLoss, BinaryKLNormLoss, CrossEntropyLoss,
                             DistillLoss, DISTLoss, DKDLoss, KDLoss,
                             check_distill_loss)

DISTILL_LOSSES = (BinaryKLNormLoss, BinaryKLLoss, KDLoss, DKDLoss, DISTLoss)
#: (loss, argument, must be > 0 rather than >= 0)
CHECKED = [(cls, 'loss_weight', False) for cls in DISTILL_LOSSES] + [
    (CrossEntropyLoss, 'loss_weight', False),
    (BinaryKLNormLoss, 'temperature', True),
    (BinaryKLLoss, 'temperature', True), (KDLoss, 'temperature', True),
    (DKDLoss, 'temperature', True), (DKDLoss, 'alpha', False),
    (DKDLoss, 'beta', False), (DISTLoss, 'tau', True),
    (DISTLoss, 'beta', False), (DISTLoss, 'gamma', False)]


def distiller(distill):
    return MODELS.build(dict(
        type='ClsDistiller',
        student=dict(type='DualHeadClassifier',
                     network=dict(type='resnet8', num_classes=10),
                     aux_head='linear'),
        teacher=dict(type='resnet8', num_classes=10),
        distill_losses=distill))


@pytest.mark.parametrize('cls, arg, positive', CHECKED,
                         ids=[f'{c.__name__}.{a}' for c, a, _ in CHECKED])
def test_arguments_checked_when_built(cls, arg, positive):
    """A negative, NaN or infinite value (and 0 where it divides) is
    refused, naming the loss, the argument, the value and the fix; the
    boundary that is allowed builds and keeps the value as given."""
    wrong = [-1.0, -4, math.nan, math.inf, '4', True] + ([0.0] if positive
                                                         else [])
    for value in wrong:
        with pytest.raises(ValueError) as err:
            cls(**{arg: value})
        message = str(err.value)
        # named as configs name it (CrossEntropyLoss is registered CELoss)
        name = 'CELoss' if cls is CrossEntropyLoss else cls.__name__
        assert message.startswith(f'{name}: {arg}={value!r} is not '
                                  'allowed: it must be a finite number '
                                  + ('> 0' if positive else '>= 0'))
        assert 'Fix: set' in message
    ok = 0.5 if positive else 0
    assert getattr(cls(**{arg: ok}), arg) == ok
    assert type(getattr(cls(**{arg: 3}), arg)) is int  # kept as given


def test_dist_negative_beta_gamma_refused_through_the_config():
    """DIST's beta = gamma = -1 trained with rc 0 before (its logged loss
    went to -80); now the distiller refuses it when built, naming where."""
    with pytest.raises(ValueError, match=r'^model\.distill_losses\.main: .*'
                       r'DISTLoss: beta=-1\.0 is not allowed'):
        distiller(dict(main=dict(type='DISTLoss', tau=4.0, beta=-1.0,
                                 gamma=-1.0)))
    with pytest.raises(ValueError, match=r'model\.distill_losses\.aux: .*'
                       r'KDLoss: temperature=0\.0 is not allowed'):
        distiller(dict(aux=dict(type='KDLoss', temperature=0.0)))


def test_every_registered_distill_loss_follows_the_protocol():
    for cls in DISTILL_LOSSES:
        assert issubclass(cls, DistillLoss) and cls.log_name
        check_distill_loss(cls(), cls.__name__)
        model = distiller(dict(aux=dict(type=cls.__name__)))
        zs, zt = torch.randn(4, 10), torch.randn(4, 10)
        value = model.distill_losses['aux'](zs, zt, target=torch.arange(4))
        assert value.shape == () and torch.isfinite(value)
        assert model.distill_loss_key('aux') == f'loss_{cls.log_name}_aux'


def test_mmdet_loss_without_log_name_refused_at_build():
    """MMDetection's registered MSELoss built, then failed at the first
    step with AttributeError: log_name; now it is refused when the
    distiller is built, with the fix."""
    pytest.importorskip('mmdet')
    import mmdet.models  # noqa: F401  (registers MMDetection's losses)
    with pytest.raises(TypeError) as err:
        distiller(dict(main=dict(type='mmdet.MSELoss')))
    message = str(err.value)
    assert message.startswith('model.distill_losses.main: MSELoss (mmdet.')
    assert 'has no log_name' in message
    assert 'subclasses dhkd_det.losses.DistillLoss' in message
    # with a log_name, its forward(pred, target, weight, ...) still cannot
    # take (student_logits, teacher_logits, target=...)
    mse = MODELS.build(dict(type='mmdet.MSELoss'))
    mse.log_name = 'mse'
    with pytest.raises(TypeError, match=r'cannot be called as forward\('
                       r'student_logits, teacher_logits, target=\.\.\.\)'):
        check_distill_loss(mse, 'model.distill_losses.main')
