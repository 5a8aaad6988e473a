"""A method is one place: its config in configs/<method>/.  The sweep's
cells take their losses, heads, optimizer wrapper and distillation hooks
from it and everything else from the pair's config; every cell of the
existing sweep files is what it was before the methods moved into their
configs (tests/unit/data/sweep_cells.json, captured from the old table of
methods.py); every method's config builds, and a loss type that is not
registered fails."""
import glob
import json
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import MODELS

import dhkd_det  # noqa: F401
from cls_utils import REPO
from dhkd_det.experiments.methods import (DISTILL_HOOKS, METHODS,
                                          REFERENCE_PAIR, Method,
                                          method_config, method_parts)
from dhkd_det.experiments.sweep import load_sweep, pair_config

SWEEPS = sorted(glob.glob(osp.join(REPO, 'configs', 'sweeps', '*.py')))
with open(osp.join(osp.dirname(__file__), 'data', 'sweep_cells.json')) as f:
    BEFORE = json.load(f)


def sweep_pairs():
    """Every pair of every sweep file: name -> config file."""
    pairs = {}
    for path in SWEEPS:
        pairs.update(load_sweep(path).pairs)
    return pairs


def cell(tmp_path, method, pair, config, seed=0, definition=None):
    path = tmp_path / f'{pair}_{method}.py'
    path.write_text(method_config(method, pair, config, seed,
                                  method=definition))
    return Config.fromfile(str(path))


def own_configs(method: Method):
    """The method's own configs for the sweep files' pairs: pair -> file."""
    return {pair: method.config_for(pair) for pair in sweep_pairs()
            if method.config_for(pair) != method.config_path}


def test_cells_as_before(tmp_path):
    """Every method of the old table on every pair of the sweep files:
    the same losses (in the same order), aux head, validation of the aux
    head, optimizer wrapper, distillation hooks (DKD's warm-up scaled to
    the digit pairs' 24 epochs) and seed as before; the pair's other hooks
    and recipe kept."""
    pairs = sweep_pairs()
    # the sweep files still name every pair they named (more may come)
    assert {key.split('/')[0] for key in BEFORE} <= set(pairs)
    for key, before in BEFORE.items():
        pair, method = key.split('/')
        assert osp.relpath(pairs[pair], REPO) == before['pair_config']
        cfg = cell(tmp_path, method, pair, pairs[pair])
        model = cfg.model
        got = dict(
            task_losses=model.task_losses.to_dict(),
            distill_losses=model.distill_losses.to_dict(),
            aux_head=model.student.aux_head, eval_aux=model.eval_aux,
            optim_wrapper=cfg.optim_wrapper.type, seed=cfg.randomness.seed,
            distill_hooks=[dict(h) for h in cfg.custom_hooks
                           if h.type in DISTILL_HOOKS])
        want = {k: v for k, v in before.items() if k != 'pair_config'}
        assert got == want, key
        assert list(model.distill_losses) == list(want['distill_losses'])
        recipe = Config.fromfile(pairs[pair])
        assert [h for h in cfg.custom_hooks if h.type not in DISTILL_HOOKS] \
            == [h for h in recipe.custom_hooks
                if h.type not in DISTILL_HOOKS], key
        assert cfg.model.student.network == recipe.model.student.network
        assert cfg.model.teacher == recipe.model.teacher
        assert cfg.optim_wrapper.optimizer == recipe.optim_wrapper.optimizer
        assert cfg.train_cfg == recipe.train_cfg


@pytest.mark.parametrize('name', list(METHODS))
def test_method_builds(name, tmp_path):
    """Each method's config and its own per-pair configs exist and name
    registered losses; its cell on the reference pair builds a model with
    those losses (an unregistered type would fail here, not skip)."""
    method = METHODS[name]
    assert osp.isfile(method.config_path), method.config
    parts = method_parts(name, method.config_path)
    for path in own_configs(method).values():
        own = method_parts(name, path)
        assert own.aux_head == parts.aux_head, path
        assert own.optim_wrapper == parts.optim_wrapper, path
    cfg = cell(tmp_path, name, REFERENCE_PAIR, pair_config(REFERENCE_PAIR),
               seed=5)
    assert cfg.randomness.seed == 5
    assert cfg.optim_wrapper.optimizer.lr == 0.05  # the pair's recipe
    model = MODELS.build(cfg.model)
    assert list(model.distill_losses) == list(parts.distill_losses)
    assert list(model.task_losses) == list(parts.task_losses)
    assert (model.student.aux_head is not None) == bool(parts.aux_head)
    hooks = [h.type for h in cfg.custom_hooks]
    assert ('DHKDHook' in hooks) == bool(parts.distill_losses)
    assert 'LossGuardHook' in hooks


def test_own_pair_configs_follow_the_pair_recipe():
    """A method's own config for a pair has the pair's student, teacher and
    recipe (those of configs/dhkd/cifar100_<pair>.py): the cell built from
    the pair's config by the rule is that config, seed aside."""
    checked = 0
    for name, method in METHODS.items():
        for pair, path in own_configs(method).items():
            own, recipe = Config.fromfile(path), Config.fromfile(
                pair_config(pair))
            assert own.model.student.network == \
                recipe.model.student.network, path
            assert (own.model.teacher, own.model.teacher_ckpt) == (
                recipe.model.teacher, recipe.model.teacher_ckpt), path
            assert own.optim_wrapper.optimizer == \
                recipe.optim_wrapper.optimizer, path
            assert own.train_cfg == recipe.train_cfg, path
            assert own.param_scheduler == recipe.param_scheduler, path
            assert own.train_dataloader == recipe.train_dataloader, path
            checked += 1
    assert checked >= 9  # DKD's beta on 6 pairs, KD+LS's T on 3


def test_per_pair_hyper_parameters_live_in_the_method_folder(tmp_path):
    """DKD's beta and LS's temperature / weight follow their authors'
    choice for the pair, from the method's own config for it; a pair they
    did not tune keeps the method's reference values."""
    def main_loss(method, pair):
        return cell(tmp_path, method, pair, pair_config(pair)) \
            .model.distill_losses.main
    assert METHODS['dkd'].config_for('res56_res20').endswith(
        'configs/dkd/cifar100_res56_res20.py')
    assert main_loss('dkd', 'res56_res20').beta == 2.0
    assert main_loss('dkd', 'res32x4_shufflev1').beta == 8.0
    ls = main_loss('kd_ls', 'vgg13_vgg8')
    assert (ls.temperature, ls.loss_weight, ls.logit_stand) == (3.0, 9.0,
                                                                True)
    assert main_loss('kd_ls', 'res56_res20').temperature == 2.0


def test_unknown_loss_type_fails(tmp_path):
    bad = tmp_path / 'configs' / 'kd_typo' / 'cifar100_res32x4_res8x4.py'
    bad.parent.mkdir(parents=True)
    bad.write_text(
        f"_base_ = '{REPO}/configs/kd/cifar100_res32x4_res8x4.py'\n"
        "model = dict(distill_losses=dict(main=dict(_delete_=True, "
        "type='KDLos', temperature=4.0)))\n")
    method = Method('typo', str(bad), 'a test')
    error = (r"method 'typo' .*: model.distill_losses.main has type "
             r"'KDLos', which is not a registered loss")
    with pytest.raises(KeyError, match=error):
        method_config('typo', REFERENCE_PAIR, pair_config(REFERENCE_PAIR), 0,
                      method=method)
    # a sweep naming it fails when read, before any run
    sweep = tmp_path / 'sweep.py'
    sweep.write_text("pairs = ['res56_res20']\n"
                     f'methods = dict(typo={str(bad)!r})\nseeds = [0]\n')
    with pytest.raises(KeyError, match=error):
        load_sweep(str(sweep))


def test_sweep_methods_all_and_by_config(tmp_path):
    """``methods = 'all'`` is every method of the table; a dict names a
    method's config (a method of one's own), None a method of the table."""
    sweep = tmp_path / 'all.py'
    sweep.write_text("pairs = ['res56_res20']\nmethods = 'all'\n"
                     'seeds = [0]\n')
    assert load_sweep(str(sweep)).methods == list(METHODS)
    own = tmp_path / 'mine.py'
    own.write_text(f"_base_ = '{REPO}/configs/kd/cifar100_res32x4_res8x4.py'"
                   '\nmodel = dict(distill_losses=dict(main=dict('
                   'temperature=3.0)))\n')
    sweep.write_text("pairs = ['res56_res20']\n"
                     "methods = dict(kd=None, mine='mine.py')\n"
                     'seeds = [0]\n')
    loaded = load_sweep(str(sweep))
    assert loaded.methods == ['kd', 'mine']
    assert loaded.method('kd') is METHODS['kd']
    assert loaded.method('mine').config == str(own)
    cfg = cell(tmp_path, 'mine', 'res56_res20', loaded.pairs['res56_res20'],
               definition=loaded.method('mine'))
    assert cfg.model.distill_losses.main.temperature == 3.0  # not overridden
    sweep.write_text("pairs = ['res56_res20']\nmethods = dict(x='none.py')\n"
                     'seeds = [0]\n')
    with pytest.raises(FileNotFoundError, match="method 'x' has no config"):
        load_sweep(str(sweep))
    sweep.write_text("pairs = ['res56_res20']\nmethods = 'kd'\nseeds = [0]\n")
    with pytest.raises(TypeError, match="methods must be 'all'"):
        load_sweep(str(sweep))


@pytest.mark.parametrize('path', SWEEPS, ids=osp.basename)
def test_sweep_files_load(path):
    """Every sweep file names pairs that have configs and known methods."""
    sweep = load_sweep(path)
    assert sweep.methods and all(sweep.method(m) for m in sweep.methods)
    assert all(osp.isfile(c) for c in sweep.pairs.values())


def test_every_method_folder_is_a_method():
    """Each folder of configs/ that holds run configs of a method (not the
    bases, sweeps, teachers or examples) is the folder of some method's
    config: no method config lies outside the table."""
    folders = {osp.basename(osp.dirname(p)) for p in glob.glob(
        osp.join(REPO, 'configs', '*', '*.py'))} - {
            '_base_', 'sweeps', 'teachers', 'examples'}
    used = {osp.dirname(m.config) for m in METHODS.values()}
    assert folders == used
