"""Where the package finds its configs and commands in a source checkout
(and so in an editable install, which imports the checkout), and the
``dhkd_det`` scope that lets a config inherit ours by ``dhkd_det::``; the
installed wheel is tested end to end in tests/e2e/test_wheel.py."""
import ast
import os
import os.path as osp

from mmengine.config import Config
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.registry import HOOKS, MODELS

import dhkd_det
from dhkd_det import registry
from dhkd_det.apis import load_config
from dhkd_det.apis.runner import TRAIN_MODULE
from dhkd_det.benchmarks.cls_check import CLS_CONFIG
from dhkd_det.benchmarks.det_check import DET_CONFIGS
from dhkd_det.experiments import demo_cls
from dhkd_det.experiments.sweep import load_sweep, pair_config
from dhkd_det.utils.paths import (CONFIG_ROOT, CONFIGS, REPO, child_env,
                                  config_file)

CHECKOUT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_a_checkout_reads_its_own_configs():
    """No wheel copy inside the package: the configs are the checkout's,
    and a repository path (``configs/...``) is one from CONFIG_ROOT."""
    assert REPO == CHECKOUT
    assert CONFIGS == osp.join(CHECKOUT, 'configs')
    assert CONFIG_ROOT == CHECKOUT
    assert not osp.exists(osp.join(CHECKOUT, 'dhkd_det', '.mim'))
    assert config_file('dhkd/cifar100_res56_res20.py') == osp.join(
        CHECKOUT, 'configs', 'dhkd', 'cifar100_res56_res20.py')


def test_the_configs_the_package_names_exist():
    named = [pair_config('res32x4_res8x4'), demo_cls.TEACHER_CONFIG,
             demo_cls.DHKD_CONFIG, CLS_CONFIG, *DET_CONFIGS.values()]
    for path in named:
        assert path.startswith(CONFIGS + os.sep) and osp.isfile(path), path


def test_a_sweep_by_its_repository_path_from_anywhere(tmp_path,
                                                      monkeypatch):
    """``dhkd-reproduce configs/sweeps/x.py`` outside the checkout finds
    the package's own sweep file and its pairs."""
    monkeypatch.chdir(tmp_path)
    sweep = load_sweep('configs/sweeps/digits_smoke.py')
    assert sweep.file == osp.join(CONFIGS, 'sweeps', 'digits_smoke.py')
    assert list(sweep.pairs.values()) == [
        osp.join(CONFIGS, 'dhkd', 'cifar100_res56_res20.py')]


def test_a_child_imports_this_package():
    """A child run (``python -m dhkd_det.cli.train``) imports the package
    of the process that starts it: its folder first on PYTHONPATH."""
    assert TRAIN_MODULE == 'dhkd_det.cli.train'
    env = child_env({'PYTHONPATH': '/elsewhere', 'X': '1'})
    assert env['PYTHONPATH'].split(os.pathsep) == [REPO, '/elsewhere']
    assert env['X'] == '1'
    assert child_env({})['PYTHONPATH'] == REPO


def _joins_tools(source: str) -> list:
    """Lines where ``source`` builds a path into tools/: a ``join`` call
    with a constant part that is or starts with ``tools``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(
                node.func, 'attr', getattr(node.func, 'id', '')) == 'join':
            parts = [a.value for a in node.args
                     if isinstance(a, ast.Constant) and
                     isinstance(a.value, str)]
            if any(p == 'tools' or p.startswith('tools/') for p in parts):
                found.append(node.lineno)
    return found


def test_the_walk_sees_a_path_into_tools():
    assert _joins_tools("import os.path as osp\n"
                        "A = osp.join(R, 'tools', 'train.py')\n"
                        "B = os.path.join(R, 'tools/x.py')\n"
                        "C = 'run tools/install.sh'\n") == [2, 3]


def test_no_module_of_the_package_builds_a_path_into_tools():
    """The package runs no script of tools/ (a wheel has none): its
    commands are its own modules."""
    wrong = []
    for root, _, files in os.walk(osp.dirname(dhkd_det.__file__)):
        for name in files:
            if name.endswith('.py'):
                path = osp.join(root, name)
                with open(path) as f:
                    wrong += [f'{path}:{line}'
                              for line in _joins_tools(f.read())]
    assert not wrong, wrong


def test_the_dhkd_det_scope_resolves_ours_and_mmengines():
    """A dict inherited by ``dhkd_det::`` carries ``_scope_='dhkd_det'``:
    built through MMEngine's registries it finds our types, registered in
    MMEngine's, through the scope's registries."""
    assert MODULE2PACKAGE['dhkd_det'] == 'dhkd_det'
    assert registry.MODELS.scope == registry.HOOKS.scope == 'dhkd_det'
    assert registry.HOOKS.get('LossGuardHook') is HOOKS.get('LossGuardHook')
    hook = HOOKS.build(dict(type='LossGuardHook', _scope_='dhkd_det'))
    assert type(hook).__name__ == 'LossGuardHook'
    net = MODELS.build(dict(type='resnet8', num_classes=10,
                            _scope_='dhkd_det'))
    assert net.fc.out_features == 10


def test_load_config_takes_the_scope_mark_off_collate_fn(tmp_path):
    """``default_collate`` is called with the collate dict's other keys: an
    inherited ``_scope_`` must not be among them."""
    path = tmp_path / 'cfg.py'
    path.write_text(
        "train_dataloader = dict(collate_fn=dict(type='default_collate', "
        "_scope_='dhkd_det'), dataset=dict(type='X', _scope_='dhkd_det'))\n"
        "val_dataloader = dict(collate_fn=dict(type='default_collate'))\n")
    cfg = load_config(str(path), work_dir=str(tmp_path))
    assert cfg.train_dataloader.collate_fn == dict(type='default_collate')
    # what a registry builds keeps its mark: the scope picks its registry
    assert cfg.train_dataloader.dataset._scope_ == 'dhkd_det'
    assert cfg.val_dataloader.collate_fn == dict(type='default_collate')
    assert isinstance(Config.fromfile(str(path)).train_dataloader
                      .collate_fn.get('_scope_'), str)
