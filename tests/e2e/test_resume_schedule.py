"""A run extended on --resume follows the schedule of the new config: a run
of 2 epochs with a decay after epoch 3, resumed to 4 epochs, decays (MMEngine
restores the saved scheduler, whose end is the old max_epochs, and the
learning rate then stays 0.05).  A schedule whose past differs from the
resumed run's is refused, naming the key; so is a run of 0 epochs."""
import shutil

import pytest
import torch
from mmengine.config import Config

from cls_utils import python_tool, run_tool, small_project
from dhkd_det.apis.train_length import check_train_length

SCHEDULE = '''
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[3],
                       gamma=0.1)
'''


@pytest.fixture(scope='module')
def two_epochs(tmp_path_factory):
    root = tmp_path_factory.mktemp('schedule')
    cfg = small_project(root, extra=SCHEDULE)
    wd = root / 'wd'
    proc = run_tool(python_tool('train.py', cfg, '--work-dir', str(wd)),
                    cwd=str(root))
    assert proc.returncode == 0, proc.stderr[-5000:]
    return cfg, wd


def resume(cfg, wd, tmp_path, *options):
    copy = tmp_path / 'wd'
    shutil.copytree(wd, copy)
    return copy, run_tool(python_tool(
        'train.py', cfg, '--work-dir', str(copy), '--resume',
        '--cfg-options', 'train_cfg.max_epochs=4', *options),
        cwd=str(tmp_path))


def lrs(path):
    return [g['lr'] for g in torch.load(path)['optimizer']['param_groups']]


@pytest.mark.slow
def test_extended_run_decays_at_the_configured_milestone(two_epochs,
                                                         tmp_path):
    cfg, wd = two_epochs
    assert lrs(wd / 'epoch_2.pth') == pytest.approx([0.05])
    wd, proc = resume(cfg, wd, tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert 'param_scheduler[0] (MultiStepLR) follows the config: end 2 -> 4'\
        in out
    # a checkpoint holds the rate of the epoch after it: epoch 4 (index 3)
    # trains at 0.005
    assert lrs(wd / 'epoch_3.pth') == pytest.approx([0.005])
    assert lrs(wd / 'epoch_4.pth') == pytest.approx([0.005])


@pytest.mark.slow
def test_schedule_with_another_past_is_refused(two_epochs, tmp_path):
    cfg, wd = two_epochs
    _, proc = resume(cfg, wd, tmp_path, 'param_scheduler.milestones=[1]')
    assert proc.returncode != 0
    assert 'param_scheduler[0] (MultiStepLR)' in proc.stderr
    assert 'milestones Counter({3: 1}) -> Counter({1: 1})' in proc.stderr
    assert 'cannot continue it' in proc.stderr, proc.stderr[-3000:]


def test_zero_epochs_name_the_key():
    cfg = Config(dict(train_cfg=dict(type='EpochBasedTrainLoop',
                                     max_epochs=0),
                      param_scheduler=dict(type='MultiStepLR',
                                           milestones=[1])))
    with pytest.raises(ValueError, match=r'train_cfg.max_epochs=0'):
        check_train_length(cfg)
    cfg.train_cfg.max_epochs = 3
    cfg.param_scheduler.begin = 5
    with pytest.raises(ValueError, match=r'param_scheduler\[0\].begin'):
        check_train_length(cfg)
