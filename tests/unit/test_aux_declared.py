"""The model says what is auxiliary: export and test loading leave out the
auxiliary classifiers the dual heads declare, and nothing else, whatever
the parameters are called."""
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import MODELS

import dhkd_det  # noqa: F401
from cls_utils import save_teacher
from dhkd_det.checkpoint.export import export_state
from dhkd_det.checkpoint.for_test import load_for_test
from dhkd_det.models import aux_state_keys


def resnet8_auxiliary_norm(num_classes=10):
    """resnet8 with a user module whose name holds 'aux' but which is no
    auxiliary classifier: part of the deployed network."""
    net = MODELS.build(dict(type='resnet8', num_classes=num_classes))
    net.auxiliary_norm = nn.BatchNorm2d(3)
    return net


@pytest.fixture
def setup(tmp_path, registered):
    registered(MODELS, resnet8_auxiliary_norm)
    teacher = tmp_path / 'teacher.pth'
    save_teacher(teacher)
    cfg = dict(
        type='ClsDistiller',
        student=dict(type='DualHeadClassifier',
                     network=dict(type='resnet8_auxiliary_norm',
                                  num_classes=10),
                     aux_head='nonlinear'),
        teacher=dict(type='resnet8', num_classes=10),
        teacher_ckpt=str(teacher),
        distill_losses=dict(aux=dict(type='BinaryKLNormLoss')))
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    with torch.no_grad():  # not the initial values a fresh model has
        model.student.network.auxiliary_norm.weight.uniform_(2, 3)
    ckpt = dict(state_dict=model.state_dict(),
                meta=dict(cfg=Config(dict(model=cfg)).pretty_text))
    return model, cfg, ckpt


def test_declared_aux_keys_are_the_aux_head_only(setup):
    model, _, _ = setup
    assert aux_state_keys(model) == {
        f'student.aux_head.{k}' for k in model.student.aux_head.state_dict()}


def test_export_keeps_a_user_module_named_aux(setup):
    model, _, ckpt = setup
    state = export_state(ckpt)
    assert torch.equal(state['auxiliary_norm.weight'],
                       model.student.network.auxiliary_norm.weight)
    plain = MODELS.build(dict(type='resnet8_auxiliary_norm', num_classes=10))
    plain.load_state_dict(state, strict=True)


def test_export_without_a_config_in_the_checkpoint(setup, tmp_path):
    _, cfg, ckpt = setup
    bare = dict(state_dict=ckpt['state_dict'])
    with pytest.raises(KeyError, match='--config'):
        export_state(bare)
    path = tmp_path / 'cfg.py'
    Config(dict(model=cfg)).dump(str(path))
    assert export_state(bare, str(path)).keys() == export_state(ckpt).keys()


def test_test_loading_allows_only_the_declared_aux_weights_missing(
        setup, tmp_path):
    model, cfg, ckpt = setup
    exported = tmp_path / 'student.pth'
    state = export_state(ckpt)
    torch.save(dict(state_dict=state), exported)
    fresh = MODELS.build(cfg)
    load_for_test(fresh, str(exported), 'cfg.py')
    assert torch.equal(fresh.student.network.auxiliary_norm.weight,
                       model.student.network.auxiliary_norm.weight)
    # without the user module the checkpoint does not fit: refused
    del state['auxiliary_norm.weight']
    torch.save(dict(state_dict=state), exported)
    with pytest.raises(ValueError, match='does not fit'):
        load_for_test(MODELS.build(cfg), str(exported), 'cfg.py')
