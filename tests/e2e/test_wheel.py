"""The package as a wheel, used as a user without a clone uses it: the wheel
is built from this source (``pip wheel --no-deps --no-build-isolation``),
installed into a fresh environment that sees the dependencies already
installed but not this checkout (no network: ``--no-index``), and run from
a folder outside the repository: its console commands, a user's config
that inherits ours by ``dhkd_det::``, and a tiny training and export
through ``dhkd-train`` and ``dhkd-export``."""
import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import textwrap

import pytest

from dhkd_det.testing import save_teacher, write_random_cifar

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
COMMANDS = ('dhkd-train', 'dhkd-test', 'dhkd-reproduce', 'dhkd-export')

pytestmark = pytest.mark.slow


def _run(cmd, cwd, timeout=600):
    """``cmd`` with this checkout off the path (no PYTHONPATH), one
    thread."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['OMP_NUM_THREADS'] = '1'
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f'{cmd} exited with {proc.returncode}:\n{proc.stdout[-3000:]}\n'
        f'{proc.stderr[-3000:]}')
    return proc


def _dependency_dirs() -> list:
    """The site-packages folders of the installed dependencies (and pip),
    for the fresh environment: whatever of this checkout is on the path,
    it is not among them."""
    dirs = []
    for name in ('torch', 'torchvision', 'mmengine', 'mmcv', 'mmdet',
                 'pycocotools', 'numpy', 'pip'):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            found = osp.dirname(osp.dirname(spec.origin))
            if found not in dirs and found != REPO:
                dirs.append(found)
    return dirs


def _source_copy(root) -> str:
    """What a wheel is built from, copied under ``root``: a build/ folder
    that another build left in the checkout cannot slip stale files in."""
    src = root / 'src'
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim')
    for name in ('dhkd_det', 'configs'):
        shutil.copytree(osp.join(REPO, name), src / name, ignore=ignore)
    for name in ('setup.py', 'MANIFEST.in'):
        shutil.copy(osp.join(REPO, name), src / name)
    return str(src)


def _fresh_env(venv):
    """A new virtual environment at ``venv`` that sees the installed
    dependencies (a .pth file naming their folders) and nothing of this
    checkout; returns its bin folder."""
    _run([sys.executable, '-m', 'venv', '--without-pip', str(venv)],
         cwd=str(venv.parent))
    site = subprocess.run(
        [str(venv / 'bin' / 'python'), '-c', 'import sysconfig; '
         'print(sysconfig.get_paths()["purelib"])'],
        capture_output=True, text=True, check=True).stdout.strip()
    with open(osp.join(site, 'dependencies.pth'), 'w') as f:
        f.write('\n'.join(_dependency_dirs()) + '\n')
    return venv / 'bin'


#: pip in such an environment: no index, and --ignore-installed so that it
#: never uninstalls the dhkd_det of the environment the dependencies are in
PIP_INSTALL = ('-m', 'pip', 'install', '-q', '--no-deps', '--no-index',
               '--ignore-installed')


@pytest.fixture(scope='module')
def env(tmp_path_factory):
    """(the fresh environment's bin folder, a folder outside the
    repository) with the wheel installed."""
    root = tmp_path_factory.mktemp('wheel')
    _run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps',
          '--no-build-isolation', '--no-index', _source_copy(root), '-w',
          str(root / 'dist')], cwd=str(root))
    wheel, = (root / 'dist').glob('dhkd_det-*.whl')
    bin_dir = _fresh_env(root / 'venv')
    _run([str(bin_dir / 'python'), *PIP_INSTALL, str(wheel)], cwd=str(root))
    user = root / 'my_project'
    user.mkdir()
    return bin_dir, user


def test_an_editable_install_reads_the_checkouts_configs(tmp_path):
    """``pip install -e .`` (what tools/install.sh does): the package and
    its configs are the source folder's, found from anywhere, and the
    commands run."""
    src = _source_copy(tmp_path)
    bin_dir = _fresh_env(tmp_path / 'venv')
    _run([str(bin_dir / 'python'), *PIP_INSTALL, '--no-build-isolation',
          '-e', src], cwd=str(tmp_path))
    user = tmp_path / 'elsewhere'
    user.mkdir()
    out = _run([str(bin_dir / 'python'), '-c', textwrap.dedent('''
        import json, dhkd_det
        from dhkd_det.utils.paths import CONFIGS
        from dhkd_det.experiments.sweep import pair_config
        print(json.dumps(dict(package=dhkd_det.__file__, configs=CONFIGS,
                              pair=pair_config('res32x4_res8x4'))))
        ''')], cwd=str(user))
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found['package'] == osp.join(src, 'dhkd_det', '__init__.py')
    assert found['configs'] == osp.join(src, 'configs')
    assert osp.isfile(found['pair']), found
    assert not osp.exists(osp.join(src, 'dhkd_det', '.mim'))
    out = _run([str(bin_dir / 'dhkd-train'), '--help'], cwd=str(user))
    assert out.stdout.startswith('usage: dhkd-train ')


def test_the_package_comes_from_the_wheel(env):
    bin_dir, user = env
    out = _run([str(bin_dir / 'python'), '-c', textwrap.dedent('''
        import json, dhkd_det
        from dhkd_det.utils.paths import CONFIGS
        from dhkd_det.experiments.sweep import load_sweep, pair_config
        sweep = load_sweep('configs/sweeps/digits_smoke.py')
        print(json.dumps(dict(package=dhkd_det.__file__, configs=CONFIGS,
                              pair=pair_config('res32x4_res8x4'),
                              sweep_pairs=list(sweep.pairs.values()))))
        ''')], cwd=str(user))
    found = json.loads(out.stdout.strip().splitlines()[-1])
    venv = str(bin_dir.parent)
    assert found['package'].startswith(venv), found
    assert found['configs'].startswith(venv), found
    assert found['configs'].endswith(osp.join('dhkd_det', '.mim', 'configs'))
    # the configs the sweeps, demos and benchmarks name, found in the wheel
    for path in [found['pair']] + found['sweep_pairs']:
        assert path.startswith(found['configs']) and osp.isfile(path), path


@pytest.mark.parametrize('command', COMMANDS)
def test_every_command_answers_help(env, command):
    bin_dir, user = env
    out = _run([str(bin_dir / command), '--help'], cwd=str(user))
    assert out.stdout.startswith(f'usage: {command} '), out.stdout[:200]


def test_a_project_inherits_the_detection_config(env):
    """A user's detection config inherits ours by ``dhkd_det::`` (which in
    turn inherits MMDetection's by ``mmdet::`` and its own bases by relative
    paths); its types resolve in the ``dhkd_det`` scope MMEngine gives the
    inherited dicts: ours and MMDetection's."""
    bin_dir, user = env
    (user / 'my_det.py').write_text(textwrap.dedent('''
        _base_ = 'dhkd_det::dhkd/coco_faster_rcnn_r101_r50.py'
        model = dict(student=dict(roi_head=dict(
            bbox_head=dict(num_classes=3))))
        '''))
    out = _run([str(bin_dir / 'python'), '-c', textwrap.dedent('''
        import json
        import dhkd_det
        from dhkd_det import registry
        from mmengine.config import Config
        cfg = Config.fromfile('my_det.py')
        registries = dict(model=registry.MODELS, dataset=registry.DATASETS,
                          hook=registry.HOOKS)
        built = [registries[kind].get(name).__name__ for kind, name in
                 (('model', cfg.model.type),
                  ('model', cfg.model.student.roi_head.bbox_head.type),
                  ('dataset', cfg.train_dataloader.dataset.type),
                  ('hook', cfg.custom_hooks[0].type))]
        print(json.dumps(dict(
            scope=cfg.model.get('_scope_'),
            classes=cfg.model.student.roi_head.bbox_head.num_classes,
            teacher=cfg.model.teacher, resolved=sorted(built))))
        ''')], cwd=str(user))
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found['scope'] == 'dhkd_det'
    assert found['classes'] == 3
    assert found['teacher'] == \
        'mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py'
    assert found['resolved'] == sorted(
        ['DetDistiller', 'DualShared2FCBBoxHead', 'CocoDataset', 'DHKDHook'])


TINY_CLS = textwrap.dedent('''
    _base_ = 'dhkd_det::dhkd/cifar100_res32x4_res8x4.py'
    model = dict(
        student=dict(network=dict(type='resnet8', num_classes=10)),
        teacher=dict(type='resnet8', num_classes=10),
        teacher_ckpt='teacher.pth')
    train_dataloader = dict(
        batch_size=16, num_workers=0, persistent_workers=False,
        dataset=dict(data_root='data', check_md5=False))
    val_dataloader = dict(
        batch_size=16, num_workers=0, persistent_workers=False,
        dataset=dict(data_root='data', check_md5=False))
    test_dataloader = val_dataloader
    train_cfg = dict(max_epochs=1)
    default_hooks = dict(logger=dict(interval=1))
    randomness = dict(seed=0)
    ''')


def _tiny_cls_project(user, name):
    """A user's config ``name`` that inherits our CIFAR DHKD config by
    ``dhkd_det::``, shrunk (resnet8, a 10-class random set, one epoch), its
    data and teacher beside it."""
    if not (user / 'teacher.pth').is_file():
        write_random_cifar(str(user / 'data'), num_classes=10, n_train=32,
                           n_test=16)
        save_teacher(str(user / 'teacher.pth'))
    (user / name).write_text(TINY_CLS)
    return name


def test_a_tiny_training_and_export_through_the_commands(env):
    """``dhkd-train`` trains a user's config that inherits our CIFAR DHKD
    config by ``dhkd_det::``; ``dhkd-export`` writes its plain student."""
    bin_dir, user = env
    cfg = _tiny_cls_project(user, 'my_cls.py')
    _run([str(bin_dir / 'dhkd-train'), cfg, '--work-dir', 'wd'],
         cwd=str(user))
    ckpt = user / 'wd' / 'epoch_1.pth'
    assert ckpt.is_file()
    out = _run([str(bin_dir / 'dhkd-export'), str(ckpt), 'student.pth'],
               cwd=str(user))
    assert 'tensors of the student' in out.stdout
    assert (user / 'student.pth').is_file()


def test_our_names_resolve_before_the_package_is_imported(env):
    """MMEngine's config reader alone (no ``import dhkd_det``, custom
    imports off) reads a config that inherits ours by ``dhkd_det::``: the
    wheel's start-up hook adds the name to MMEngine's table when the reader
    is imported."""
    bin_dir, user = env
    (user / 'my_det_alone.py').write_text(
        "_base_ = 'dhkd_det::dhkd/coco_faster_rcnn_r101_r50.py'\n")
    out = _run([str(bin_dir / 'python'), '-c', textwrap.dedent('''
        import json, sys
        from mmengine.config import Config
        cfg = Config.fromfile('my_det_alone.py', import_custom_modules=False)
        print(json.dumps(dict(model=cfg.model.type,
                              imported='dhkd_det' in sys.modules)))
        ''')], cwd=str(user))
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found == dict(model='DetDistiller', imported=False)


def test_mmdetection_s_own_train_script_trains_our_config(env):
    """MMDetection's tools/train.py, which reads the config before its
    ``custom_imports`` import dhkd_det, trains a user's config that inherits
    ours by ``dhkd_det::``."""
    mmdet = pytest.importorskip('mmdet')
    script = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools',
                      'train.py')
    if not osp.isfile(script):
        pytest.skip('mmdet without its tools')
    bin_dir, user = env
    cfg = _tiny_cls_project(user, 'my_cls_mmdet.py')
    _run([str(bin_dir / 'python'), script, cfg, '--work-dir', 'wd_mmdet'],
         cwd=str(user))
    assert (user / 'wd_mmdet' / 'epoch_1.pth').is_file()


def test_this_checkout_is_not_what_the_environment_imports(env):
    """The environment's Python does not see this repository: what the
    tests above ran came from the wheel."""
    bin_dir, user = env
    out = _run([str(bin_dir / 'python'), '-c',
                'import sys; print("\\n".join(sys.path))'], cwd=str(user))
    assert REPO not in out.stdout.split('\n')
