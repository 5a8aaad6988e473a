"""docs/extending.md is true: its files, written from the page into a
temporary folder laid out as the checkout (and nothing else), give a loss
whose own test passes, a config that builds, and a sweep whose cells train
the method on each pair for a step."""
import importlib
import os
import os.path as osp
import re
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import MODELS

import dhkd_det  # noqa: F401
from cls_utils import REPO
from dhkd_det.experiments.sweep import Cell, cell_dir, load_sweep, \
    write_cell_config
from dhkd_det.testing import save_teacher

DOC = osp.join(REPO, 'docs', 'extending.md')
PROJECT = 'projects/logit_mse'


def listed_files(text):
    """The files the page's "The files" section lists."""
    section = text.split('## The files', 1)[1].split('\n## ', 1)[0]
    return re.findall(r'^- `([^`]+)`:', section, re.M)


def file_blocks(text):
    """path -> content of each code block the page introduces with
    ``path``: on the line before it."""
    return dict(re.findall(r'^`([^`\n]+)`:\n\n```python\n(.*?)^```',
                           text, re.M | re.S))


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The page's files in ``tmp_path``, beside the checkout's configs;
    the loss's module importable as the page says (PYTHONPATH), and
    unregistered afterwards."""
    text = open(DOC, encoding='utf-8').read()
    blocks = file_blocks(text)
    assert sorted(blocks) == sorted(listed_files(text))
    for path, content in blocks.items():
        assert path.startswith(PROJECT + '/'), path
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(content)
    os.symlink(osp.join(REPO, 'configs'), tmp_path / 'configs')
    monkeypatch.syspath_prepend(str(tmp_path / PROJECT))
    monkeypatch.chdir(tmp_path)
    yield tmp_path / PROJECT
    MODELS._module_dict.pop('LogitMSELoss', None)
    for name in ('logit_mse', 'test_logit_mse'):
        sys.modules.pop(name, None)


def test_the_page_lists_the_files_it_writes():
    text = open(DOC, encoding='utf-8').read()
    assert listed_files(text) == [
        f'{PROJECT}/logit_mse.py', f'{PROJECT}/test_logit_mse.py',
        f'{PROJECT}/configs/cifar100_res32x4_res8x4.py', f'{PROJECT}/sweep.py']


def test_a_method_added_as_the_page_says(project, tmp_path):
    # 1, 2: the loss and its own test
    tests = importlib.import_module('test_logit_mse')
    names = [n for n in dir(tests) if n.startswith('test_')]
    assert len(names) == 2
    for name in names:
        getattr(tests, name)()
    # 3: the config builds, with the loss on the one head
    cfg = Config.fromfile(str(project / 'configs' /
                              'cifar100_res32x4_res8x4.py'))
    model = MODELS.build(cfg.model)
    assert model.distill_loss_key('main') == 'loss_logit_mse_main'
    # 4: the sweep: KD of the package beside the method of the folder
    sweep = load_sweep(str(project / 'sweep.py'))
    assert sweep.methods == ['kd', 'logit_mse']
    assert list(sweep.pairs) == ['res32x4_res8x4', 'res56_res20']
    out = str(tmp_path / 'out')
    cell = Cell('res56_res20', 'logit_mse', 0)
    work_dir = cell_dir(out, cell)
    cfg = Config.fromfile(write_cell_config(sweep, cell, work_dir))
    assert cfg.model.distill_losses.to_dict() == {
        'main': dict(type='LogitMSELoss', loss_weight=1.0)}
    assert cfg.custom_imports.imports == ['dhkd_det', 'logit_mse']
    assert cfg.model.student.network.type == 'resnet20'  # the pair's
    assert cfg.model.teacher.type == 'resnet56'
    # one training step of the cell, from a (random) resnet56 teacher
    cfg.model.teacher_ckpt = str(tmp_path / 'resnet56.pth')
    save_teacher(cfg.model.teacher_ckpt, 'resnet56', 100)
    model = MODELS.build(cfg.model)
    model.train()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    g = torch.Generator().manual_seed(0)
    batch = dict(inputs=torch.randint(0, 256, (4, 3, 32, 32), generator=g,
                                      dtype=torch.uint8),
                 data_samples=torch.randint(0, 100, (4, ), generator=g))
    before = model.student.network.fc.weight.detach().clone()
    logged = model.train_step(batch, wrapper)
    assert torch.isfinite(logged['loss_logit_mse_main'])
    assert logged['loss_logit_mse_main'] > 0
    assert not torch.equal(model.student.network.fc.weight, before)
    # 5: no published number for a method of one's own
    from dhkd_det.experiments.published import published
    assert published('res56_res20', 'logit_mse') is None
