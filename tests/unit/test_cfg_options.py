"""``--cfg-options`` keys checked before they are merged (the tools call
``check_cfg_options`` through ``load_config``)."""
import os.path as osp

import pytest
from mmengine.config import Config

from cls_utils import REPO
from dhkd_det.checks import CfgOptionsAction, check_cfg_options

CONFIG = osp.join(REPO, 'configs', 'dhkd', 'cifar100_res32x4_res8x4.py')


@pytest.fixture(scope='module')
def cfg():
    return Config.fromfile(CONFIG)


def test_the_teacher_bases_variables_name_the_model_key(cfg):
    # the teacher base's top-level teacher_ckpt was copied into the model
    # when the config was parsed: overriding it would silently do nothing
    with pytest.raises(KeyError, match=r"Override model.teacher_ckpt"):
        check_cfg_options(cfg, {'teacher_ckpt': 'other.pth'})
    with pytest.raises(KeyError, match=r"Override model.teacher instead"):
        check_cfg_options(cfg, {'teacher': dict(type='resnet56')})
    check_cfg_options(cfg, {'model.teacher_ckpt': 'other.pth'})


def test_a_typo_names_the_key_meant(cfg):
    with pytest.raises(KeyError, match=r"did you mean 'teacher_ckpt'"):
        check_cfg_options(cfg, {'model.teacher_ckp': 'x.pth'})


def test_an_argument_close_to_a_key_is_no_typo(cfg):
    """model.teacher_ckpt_ema is an argument of the distiller of its own,
    not a misspelt model.teacher_ckpt."""
    check_cfg_options(cfg, {'model.teacher_ckpt_ema': True})


def test_new_top_level_keys_pass(cfg):
    check_cfg_options(cfg, {'randomness': dict(seed=1)})


def test_a_value_keeps_its_spaces():
    """MMEngine's DictAction drops every space of a value: a teacher in
    ``/data/my runs/`` was looked for in ``/data/myruns/``."""
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    args = parser.parse_args([
        '--cfg-options', 'model.teacher_ckpt=/data/my runs/t.pth',
        'work_dir="a b"', 'train_cfg.max_epochs=3', 'x.flag=false',
        'x.list=[1, 2]', 'x.pair=(a, b)', 'x.csv=1,2'])
    assert args.cfg_options == {
        'model.teacher_ckpt': '/data/my runs/t.pth', 'work_dir': 'a b',
        'train_cfg.max_epochs': 3, 'x.flag': False, 'x.list': [1, 2],
        'x.pair': ('a', 'b'), 'x.csv': [1, 2]}
