"""Teacher checkpoints the loader once misread: mmcv 1.x EMA weights
(``ema_<name>`` keys) named as such and loaded on request
(``model.teacher_ckpt_ema``); a checkpoint whose ``meta`` names other
classes than the data; a folder given for the file; a file that cannot be
read."""
import os
from types import SimpleNamespace

import pytest
import torch
from mmengine.registry import MODELS

import dhkd_det  # noqa: F401
import dhkd_det.checkpoint.teacher as teacher_module
from dhkd_det.checkpoint.teacher import load_teacher_checkpoint
from dhkd_det.engine import DHKDHook
from dhkd_det.testing import small_cls_distiller_cfg

CLASSES = tuple(f'class_{i}' for i in range(10))


@pytest.fixture
def logged(monkeypatch):
    messages = []
    monkeypatch.setattr(teacher_module, 'print_log',
                        lambda msg, *args, **kwargs: messages.append(msg),
                        raising=False)
    return messages


def network(seed):
    torch.manual_seed(seed)
    return MODELS.build(dict(type='resnet8', num_classes=10))


def save_ema_checkpoint(path):
    """As mmcv 1.x's EMAHook leaves a model: every parameter also as a
    buffer ``ema_<name with . as _>`` (here the weights of another
    network, so that the test tells which were loaded)."""
    raw, ema = network(0), network(1)
    state = dict(raw.state_dict())
    for name, value in ema.named_parameters():
        state['ema_' + name.replace('.', '_')] = value.detach().clone()
    torch.save({'state_dict': state, 'meta': {}}, path)
    return raw, ema


def same_weights(a, b):
    return all(torch.equal(a.state_dict()[k], v)
               for k, v in b.state_dict().items()
               if not k.endswith('num_batches_tracked'))


def test_mmcv_ema_weights_are_named_and_loaded_on_request(tmp_path, logged):
    path = tmp_path / 'ema.pth'
    raw, ema = save_ema_checkpoint(path)
    with pytest.raises(ValueError) as info:
        load_teacher_checkpoint(network(2), str(path))
    message = str(info.value)
    assert 'EMA' in message and 'ema_conv1_weight' in message
    assert 'model.teacher_ckpt_ema=True' in message
    assert 'model.teacher_ckpt_ema=False' in message
    assert 'of this architecture' not in message

    teacher = network(2)
    load_teacher_checkpoint(teacher, str(path), ema=True)
    params = dict(teacher.named_parameters())
    assert all(torch.equal(params[k], v) for k, v in ema.named_parameters())
    # buffers (BN statistics) are not averaged: the plain ones
    assert torch.equal(teacher.bn1.running_mean, raw.bn1.running_mean)
    assert any('EMA' in m and str(path) in m for m in logged), logged

    teacher = network(2)
    load_teacher_checkpoint(teacher, str(path), ema=False)
    assert same_weights(teacher, raw)


def test_ema_asked_for_a_checkpoint_without_ema_weights(tmp_path):
    path = tmp_path / 'plain.pth'
    torch.save({'state_dict': network(0).state_dict()}, path)
    with pytest.raises(ValueError, match='teacher_ckpt_ema=True.*holds no '
                       'EMA weights'):
        load_teacher_checkpoint(network(2), str(path), ema=True)
    load_teacher_checkpoint(network(2), str(path), ema=False)


def test_the_distiller_takes_teacher_ckpt_ema(tmp_path):
    path = tmp_path / 'ema.pth'
    _, ema = save_ema_checkpoint(path)
    model = MODELS.build(small_cls_distiller_cfg(str(path),
                                                 teacher_ckpt_ema=True))
    model.load_teacher()
    params = dict(model.teacher.named_parameters())
    assert all(torch.equal(params[k], v) for k, v in ema.named_parameters())


def save_with_classes(path, classes, style):
    meta = ({'dataset_meta': {'classes': classes}} if style == 'mmengine'
            else {'CLASSES': classes})
    torch.save({'state_dict': network(0).state_dict(), 'meta': meta}, path)


@pytest.mark.parametrize('style', ['mmengine', 'mmdet2'])
def test_teacher_of_other_classes_than_the_data(tmp_path, logged, style):
    path = tmp_path / 'zoo.pth'
    # the same classes in another order: every logit means another class
    shuffled = CLASSES[1:] + CLASSES[:1]
    save_with_classes(path, shuffled, style)
    with pytest.raises(ValueError) as info:
        load_teacher_checkpoint(network(2), str(path), classes=CLASSES)
    message = str(info.value)
    assert str(path) in message and 'another order' in message
    assert str(shuffled[:3])[:-1] in message and str(CLASSES[:3])[:-1] in \
        message
    # other names: said, loaded
    renamed = tuple(c.upper() for c in CLASSES)
    save_with_classes(path, renamed, style)
    load_teacher_checkpoint(network(2), str(path), classes=CLASSES)
    assert any('CLASS_0' in m and 'class_0' in m for m in logged), logged
    # the same classes: nothing said
    logged.clear()
    save_with_classes(path, CLASSES, style)
    load_teacher_checkpoint(network(2), str(path), classes=CLASSES)
    assert logged == []


def test_dhkd_hook_checks_the_teacher_against_the_training_classes(
        tmp_path):
    path = tmp_path / 'zoo.pth'
    save_with_classes(path, CLASSES[::-1], 'mmengine')
    model = MODELS.build(small_cls_distiller_cfg(str(path)))
    runner = SimpleNamespace(model=model, train_dataloader=SimpleNamespace(
        dataset=SimpleNamespace(metainfo=dict(classes=CLASSES))))
    with pytest.raises(ValueError, match='another order'):
        DHKDHook().before_train(runner)


def test_a_folder_is_named_as_a_folder(tmp_path):
    folder = tmp_path / 'teacher_run'
    folder.mkdir()
    (folder / 'epoch_240.pth').write_bytes(b'')
    with pytest.raises(IsADirectoryError) as info:
        load_teacher_checkpoint(network(2), str(folder))
    message = str(info.value)
    assert 'does not exist' not in message
    assert f'{folder} is a folder' in message
    assert 'epoch_240.pth' in message


def test_an_unreadable_file_is_named_with_the_fix(tmp_path, monkeypatch):
    path = tmp_path / 'teacher.pth'
    torch.save({'state_dict': network(0).state_dict()}, path)
    if os.geteuid() != 0:
        path.chmod(0)
    else:  # root reads any file: fail the read as it fails for a user
        def refuse(*args, **kwargs):
            raise PermissionError(13, 'Permission denied', str(path))
        monkeypatch.setattr(teacher_module, 'read_checkpoint', refuse)
    with pytest.raises(PermissionError) as info:
        load_teacher_checkpoint(network(2), str(path))
    message = str(info.value)
    assert f'teacher checkpoint (model.teacher_ckpt) {path}' in message
    assert 'cannot be read' in message and 'chmod' in message
