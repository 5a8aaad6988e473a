"""Every config parses (the classification ones build their model: teachers
are loaded lazily, so no download) and carries the keys the README
promises; and the layout of configs/ holds: methods are siblings on
neutral bases, each teacher checkpoint is named once, and a config's hook
list extends its base's."""
import ast
import functools
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS

import dhkd_det  # noqa: F401
from cls_utils import REPO

CONFIGS = osp.join(REPO, 'configs')


def rel(path):
    return osp.relpath(path, CONFIGS)


ALL_FILES = sorted(glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True))
#: the configs one trains (bases, and the sweeps tools/reproduce.py reads,
#: excluded)
RUN_CONFIGS = [p for p in ALL_FILES if not osp.relpath(p, CONFIGS).startswith(
    ('_base_', 'sweeps'))]
#: the classification configs (the detection ones are named coco_*; the
#: example is a user's detection project): every folder's, found, not listed
CLS_CONFIGS = [p for p in RUN_CONFIGS
               if not osp.basename(p).startswith('coco_')
               and not rel(p).startswith('examples')]
#: configs of single-head methods, every folder's but DHKD's (and the
#: example, a DHKD project): their students have no aux classifier
SINGLE_HEAD_CONFIGS = [p for p in RUN_CONFIGS
                       if not rel(p).startswith(('dhkd', 'examples'))]


@functools.lru_cache(maxsize=None)
def load(path):
    """``path`` parsed once for all tests (none of them changes it)."""
    return Config.fromfile(path)


def local_bases(path):
    """The files of ``path``'s ``_base_`` (MMDetection's ``mmdet::`` bases
    left out: none of them sets custom_hooks)."""
    for node in ast.parse(open(path).read()).body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == '_base_' for t in node.targets):
            bases = ast.literal_eval(node.value)
            bases = [bases] if isinstance(bases, str) else bases
            return [osp.normpath(osp.join(osp.dirname(path), b))
                    for b in bases if '::' not in b]
    return []


def literal_teacher_ckpts(path):
    """The string constants ``path`` assigns to ``teacher_ckpt``, as a
    variable or a keyword (``teacher_ckpt=_base_.teacher_ckpt`` is not
    one)."""
    found = []
    for node in ast.walk(ast.parse(open(path).read())):
        pairs = []
        if isinstance(node, ast.Assign):
            pairs = [(getattr(t, 'id', None), node.value)
                     for t in node.targets]
        elif isinstance(node, ast.keyword):
            pairs = [(node.arg, node.value)]
        found += [value.value for name, value in pairs
                  if name == 'teacher_ckpt' and isinstance(value, ast.Constant)
                  and isinstance(value.value, str)]
    return found


def dicts_in(node):
    """Every dict nested in ``node`` (itself included)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from dicts_in(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from dicts_in(value)


@pytest.mark.parametrize('path', CLS_CONFIGS,
                         ids=[rel(p) for p in CLS_CONFIGS])
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
    assert any(h.type == 'LossGuardHook' for h in cfg.custom_hooks)
    size = 64 if 'imagenet' in osp.basename(path) else 32
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, size, size), mode='tensor')
    assert out.main.shape[0] == 2


@pytest.mark.parametrize('path', RUN_CONFIGS,
                         ids=[rel(p) for p in RUN_CONFIGS])
def test_every_config_parses(path):
    """The detection ones too (tests/test_det_e2e.py builds those)."""
    cfg = load(path)
    assert cfg.custom_imports.imports == ['dhkd_det']
    if cfg.model.type in ('ClsDistiller', 'DetDistiller'):
        assert cfg.model.teacher and cfg.model.teacher_ckpt
        assert cfg.model_wrapper_cfg.type == 'DistillerDataParallel'
        assert {'DHKDHook', 'LossGuardHook'} <= {
            h.type for h in cfg.custom_hooks}
    # the logged losses are read at the logger's interval, not every step
    # (the COCO pair bases, on MMDetection's runtime, set it themselves)
    assert cfg.default_hooks.runtime_info.type == 'DeferredRuntimeInfoHook'


def test_recipe_values():
    cfg = Config.fromfile(
        osp.join(CONFIGS, 'dhkd/cifar100_res32x4_res8x4.py'))
    assert cfg.optim_wrapper.type == 'GradAlignOptimWrapper'
    assert cfg.optim_wrapper.optimizer.lr == 0.05
    assert cfg.optim_wrapper.optimizer.weight_decay == 5e-4
    assert cfg.param_scheduler.milestones == [150, 180, 210]
    assert cfg.train_cfg.max_epochs == 240
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.model.student.aux_head == 'nonlinear'
    assert cfg.model.distill_losses.aux.temperature == 2.0
    assert cfg.model.teacher == dict(type='resnet32x4', num_classes=100)
    assert cfg.model.teacher_ckpt == ('checkpoints/cifar_teachers/'
                                      'resnet32x4_vanilla/ckpt_epoch_240.pth')
    mv2 = Config.fromfile(osp.join(CONFIGS, 'dhkd/cifar100_vgg13_mv2.py'))
    assert mv2.optim_wrapper.optimizer.lr == 0.01
    assert mv2.model.teacher.type == 'vgg13'
    assert 'vgg13_vanilla' in mv2.model.teacher_ckpt
    dual_kd = Config.fromfile(
        osp.join(CONFIGS, 'dhkd/cifar100_res32x4_res8x4_dual_kd.py'))
    assert dict(dual_kd.model.distill_losses) == {
        'aux': dict(type='KDLoss', temperature=4.0, loss_weight=1.0)}
    imnet = Config.fromfile(osp.join(CONFIGS, 'dhkd/imagenet_r34_r18.py'))
    assert imnet.model.distill_losses.aux.loss_weight == 0.1
    assert imnet.model.student.aux_head == 'linear'
    assert imnet.model.student.network == dict(type='tv_resnet18',
                                               num_classes=1000)
    assert imnet.optim_wrapper.type == 'OptimWrapper'
    assert imnet.train_cfg.max_epochs == 100
    assert [h.type for h in imnet.custom_hooks] == [
        'LossGuardHook', 'DHKDHook', 'DistillScheduleHook']
    assert imnet.custom_hooks[2].stop_epoch == 50
    assert 'download.pytorch.org/models/resnet34' in imnet.model.teacher_ckpt
    mv1 = Config.fromfile(osp.join(CONFIGS, 'dhkd/imagenet_r50_mv1.py'))
    assert mv1.model.teacher.type == 'tv_resnet50'
    assert 'download.pytorch.org/models/resnet50' in mv1.model.teacher_ckpt
    assert mv1.custom_hooks == imnet.custom_hooks


def test_warmup_belongs_to_dkd():
    """DKD's 20-epoch warm-up of its loss is in DKD's config, and only
    there: the neutral base and the other methods have none."""
    dkd = Config.fromfile(osp.join(CONFIGS, 'dkd/cifar100_res32x4_res8x4.py'))
    assert dkd.model.distill_losses.main.beta == 8.0
    warmups = [h for h in dkd.custom_hooks if h.type == 'DistillScheduleHook']
    assert [h.warmup_epochs for h in warmups] == [20]
    for path in RUN_CONFIGS:
        if rel(path).startswith('dkd/'):
            continue
        cfg = load(path)
        assert not any(h.get('warmup_epochs') for h in cfg.custom_hooks), \
            rel(path)


@pytest.mark.parametrize('path', SINGLE_HEAD_CONFIGS,
                         ids=[rel(p) for p in SINGLE_HEAD_CONFIGS])
def test_single_head_methods_have_no_aux_head(path):
    """KD / DKD / DIST / one-head configs are siblings of DHKD's on a
    neutral base, not DHKD configs with the aux head taken out: nothing of
    it is left (the sweep takes each method's losses from these configs,
    tests/unit/test_methods.py)."""
    model = load(path).model
    assert 'aux' not in model.get('distill_losses', {})
    if model.get('teacher'):  # a distillation method: on the one head
        assert model.distill_losses.main
    for node in dicts_in(model.student.to_dict()):
        assert not node.get('aux_head'), node
    for node in dicts_in(model.student.to_dict()):
        head = node.get('bbox_head')
        for stage in head if isinstance(head, list) else [head]:
            assert not (stage or {}).get('type', '').startswith('Dual'), \
                stage


def test_kd_and_dhkd_coco_are_siblings():
    """configs/kd/ and configs/dhkd/ Faster R-CNN R101 -> R50 differ only in
    the box head and the distillation loss; the RoI head that hands the
    distiller its sampled RoIs is the neutral base's."""
    base, kd, dhkd = (load(osp.join(CONFIGS, name)).to_dict() for name in (
        '_base_/distill_coco_faster_rcnn_r101_r50.py',
        'kd/coco_faster_rcnn_r101_r50.py',
        'dhkd/coco_faster_rcnn_r101_r50.py'))
    assert 'distill_losses' not in base['model']
    assert base['model']['student']['roi_head']['type'] == \
        'DualStandardRoIHead'
    assert base['model']['student']['roi_head']['bbox_head']['type'] == \
        'Shared2FCBBoxHead'
    assert kd['model']['student'] == base['model']['student']
    assert kd['model']['distill_losses'] == {
        'main': dict(type='KDLoss', temperature=2.0, loss_weight=1.0)}
    head = dhkd['model']['student']['roi_head'].pop('bbox_head')
    assert head == dict(base['model']['student']['roi_head']['bbox_head'],
                        type='DualShared2FCBBoxHead', aux_head='linear')
    assert dhkd['model']['distill_losses'] == {
        'aux': dict(type='BinaryKLNormLoss', temperature=2.0,
                    loss_weight=1.0)}
    for cfg in (kd, dhkd):
        cfg['model'].pop('distill_losses')
        cfg['model']['student']['roi_head'].pop('bbox_head', None)
    base['model']['student']['roi_head'].pop('bbox_head')
    assert kd == dhkd == base


def test_each_teacher_checkpoint_is_named_once():
    """A teacher's checkpoint is written in one file (its base in
    configs/_base_/teachers/, or the neutral base of its COCO pair), and
    every distillation config takes it from there."""
    named = {}
    for path in ALL_FILES:
        for ckpt in literal_teacher_ckpts(path):
            named.setdefault(ckpt, []).append(rel(path))
    assert len(named) >= 12  # 6 CIFAR, 2 ImageNet, 3 COCO, 1 example
    for ckpt, files in named.items():
        assert len(files) == 1, f'{ckpt} is named in {files}'
    for path in RUN_CONFIGS:
        cfg = load(path)
        if cfg.model.get('teacher_ckpt'):
            assert cfg.model.teacher_ckpt in named, rel(path)


@pytest.mark.parametrize('path', ALL_FILES, ids=[rel(p) for p in ALL_FILES])
def test_hooks_extend_the_base_hooks(path):
    """A config's custom_hooks are its bases' followed by its own: adding a
    hook never restates (or drops) the inherited ones."""
    hooks = load(path).get('custom_hooks', [])
    for base_path in local_bases(path):
        inherited = load(base_path).get('custom_hooks', [])
        assert hooks[:len(inherited)] == inherited, (
            f'{rel(path)} drops or reorders the hooks of {rel(base_path)}')
