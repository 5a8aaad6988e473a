"""Every classification config parses, builds its model (teachers are
loaded lazily, so no download) and carries the keys the README promises."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS

import dhkd_det  # noqa: F401
from cls_utils import REPO

CLS_CONFIGS = sorted(
    p for d in ('dhkd', 'kd', 'dkd', 'teachers')
    for p in glob.glob(osp.join(REPO, 'configs', d, '*.py'))
    if not osp.basename(p).startswith('coco_'))


@pytest.mark.parametrize('path', CLS_CONFIGS,
                         ids=[osp.basename(p) for p in CLS_CONFIGS])
def test_config_builds(path):
    cfg = Config.fromfile(path)
    for key in ('train_dataloader.dataset.data_root',
                'val_dataloader.dataset.data_root', 'train_cfg.max_epochs',
                'train_dataloader.batch_size'):
        node = cfg
        for part in key.split('.'):
            node = node[part]
    model = MODELS.build(cfg.model)
    if cfg.model.type != 'ImageClassifier':
        assert cfg.model.teacher_ckpt
        assert any(h.type == 'DHKDHook' for h in cfg.custom_hooks)
    size = 64 if 'imagenet' in osp.basename(path) else 32
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, size, size), mode='tensor')
    assert out.main.shape[0] == 2


def test_recipe_values():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/dhkd/cifar100_res32x4_res8x4.py'))
    assert cfg.optim_wrapper.type == 'GradAlignOptimWrapper'
    assert cfg.optim_wrapper.optimizer.lr == 0.05
    assert cfg.optim_wrapper.optimizer.weight_decay == 5e-4
    assert cfg.param_scheduler.milestones == [150, 180, 210]
    assert cfg.train_cfg.max_epochs == 240
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.model.student.aux_head == 'nonlinear'
    assert cfg.model.distill_losses.aux.temperature == 2.0
    mv2 = Config.fromfile(osp.join(REPO, 'configs/dhkd/cifar100_vgg13_mv2.py'))
    assert mv2.optim_wrapper.optimizer.lr == 0.01
    imnet = Config.fromfile(osp.join(REPO, 'configs/dhkd/imagenet_r34_r18.py'))
    assert imnet.model.distill_losses.aux.loss_weight == 0.1
    assert imnet.model.student.aux_head == 'linear'
    assert [h.type for h in imnet.custom_hooks] == [
        'DHKDHook', 'DistillScheduleHook', 'LossGuardHook']
    assert imnet.custom_hooks[1].stop_epoch == 50
    assert 'download.pytorch.org/models/resnet34' in imnet.model.teacher_ckpt
    dkd = Config.fromfile(osp.join(REPO, 'configs/dkd/cifar100_res32x4_res8x4.py'))
    assert dkd.custom_hooks[1].type == 'DistillScheduleHook'
    assert dkd.custom_hooks[1].warmup_epochs == 20
    assert dkd.model.distill_losses.main.beta == 8.0
