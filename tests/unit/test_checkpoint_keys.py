"""The one key matching (dhkd_det/checkpoint/keys.py) serves every reader:
a checkpoint in MMRazor's layout (``architecture.``) loads as the teacher,
for tools/test.py and for export alike, and every reader words a mismatch
the same way."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS

import dhkd_det  # noqa: F401
from dhkd_det.checkpoint import (KEY_PREFIXES, export_state, load_for_test,
                                 match_keys)
from dhkd_det.checkpoint.keys import MMENGINE_PREFIXES
from dhkd_det.testing import small_cls_distiller_cfg


def as_mmrazor(state, prefix='student.'):
    """MMRazor's distillers keep the student as ``architecture``."""
    return {'architecture.' + k[len(prefix):]: v for k, v in state.items()}


def test_the_table_holds_mmengines_prefixes_and_mmrazors():
    assert set(MMENGINE_PREFIXES) <= set(KEY_PREFIXES)
    assert 'architecture.' in KEY_PREFIXES


def test_an_mmrazor_checkpoint_loads_as_teacher_for_test_and_export(
        tmp_path):
    torch.manual_seed(1)
    trained = MODELS.build(small_cls_distiller_cfg())
    # the teacher: a plain network under architecture.
    net = MODELS.build(dict(type='resnet8', num_classes=10))
    teacher = tmp_path / 'teacher.pth'
    torch.save({'state_dict': as_mmrazor(net.state_dict(), '')}, teacher)
    model = MODELS.build(small_cls_distiller_cfg(str(teacher)))
    model.load_teacher()
    for key, value in net.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[key], value), key

    # a distiller checkpoint whose student sits under architecture.
    cfg_text = Config(dict(model=small_cls_distiller_cfg())).pretty_text
    ckpt = dict(state_dict=as_mmrazor(trained.state_dict()),
                meta=dict(cfg=cfg_text))
    path = tmp_path / 'razor.pth'
    torch.save(ckpt, path)
    fresh = MODELS.build(small_cls_distiller_cfg())
    load_for_test(fresh, str(path), 'cfg.py')
    for key, value in trained.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key

    ours = export_state(dict(state_dict=trained.state_dict(),
                             meta=dict(cfg=cfg_text)))
    razor = export_state(ckpt)
    assert razor.keys() == ours.keys()
    assert all(torch.equal(razor[k], ours[k]) for k in ours)
    plain = MODELS.build(dict(type='resnet8', num_classes=10))
    plain.load_state_dict(razor, strict=True)


def test_match_keeps_the_bare_reading_and_names_what_is_unread():
    model = MODELS.build(small_cls_distiller_cfg())
    state = model.state_dict()
    match = match_keys(state, model)
    assert (match.strip, match.add) == ('', '') and match.fits()
    # the student's network read as a plain network: the aux head unread
    net = MODELS.build(dict(type='resnet8', num_classes=10))
    match = match_keys(state, net)
    assert match.strip == 'student.network.'
    assert not match.missing and not match.unexpected and not match.shapes
    assert match.ignored and all(k.startswith('student.aux_head.')
                                 for k in match.ignored)
    assert match.fits(ignored_ok=True) and not match.fits()


def test_every_reader_words_a_mismatch_alike(tmp_path):
    """A resnet20 network does not fit the resnet8 of the distiller: the
    teacher and test readers say so in the same words."""
    r20 = tmp_path / 'r20.pth'
    torch.save({'model': MODELS.build(dict(type='resnet20',
                                           num_classes=10)).state_dict()},
               r20)
    model = MODELS.build(small_cls_distiller_cfg(str(r20)))
    with pytest.raises(ValueError) as teacher_err:
        model.load_teacher()
    with pytest.raises(ValueError) as test_err:
        load_for_test(MODELS.build(small_cls_distiller_cfg()), str(r20),
                      'cfg.py')
    for err, target in ((teacher_err, 'model.teacher (ResNet)'),
                        (test_err, 'the model of cfg.py')):
        assert f'{r20} does not fit {target}: ' in str(err.value)
        assert 'of its keys are not in the model (e.g. [' in str(err.value)
