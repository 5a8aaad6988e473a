"""Helpers for the classification tests: small teachers, override configs
and running the real tools as subprocesses."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

# save_teacher: tests import it from here
from dhkd_det.testing import save_teacher, write_random_cifar  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TESTS = osp.join(REPO, 'tests')


def write_override_config(path, base, data_root, extra=''):
    """A config inheriting a real one, shrunk to tiny models and data."""
    text = f'''
_base_ = {osp.join(REPO, base)!r}
model = dict(
    student=dict(network=dict(type='resnet8', num_classes=10)),
    teacher=dict(type='resnet8', num_classes=10))
train_dataloader = dict(batch_size=16, num_workers=0,
                        persistent_workers=False,
                        dataset=dict(data_root={data_root!r},
                                     check_md5=False))
val_dataloader = dict(batch_size=32, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root={data_root!r}, check_md5=False))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=2)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, max_keep_ckpts=5))
env_cfg = dict(cudnn_benchmark=False)
randomness = dict(seed=0)
{extra}
'''
    with open(path, 'w') as f:
        f.write(text)
    return path


def run_tool(args, cwd, timeout=600, env_extra=None):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO, TESTS, env.get('PYTHONPATH', '')])
    env.setdefault('OMP_NUM_THREADS', '1')
    env.update(env_extra or {})
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    return proc


#: config lines of a run that signals itself where DHKD_SIGNAL says
#: ('TERM:iter:5', 'KILL:epoch:1': tests/signal_hook.py)
SIGNAL_HOOKS = '''
custom_imports = dict(imports=['dhkd_det', 'signal_hook'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='DHKDHook'), dict(type='LossGuardHook'),
                dict(type='SendSignalAtIterHook'),
                dict(type='SendSignalAfterEpochHook')]
'''


def train_signalled(cfg, wd, cwd, *args, signal=''):
    """tools/train.py on ``cfg`` (made with ``SIGNAL_HOOKS``) into ``wd``,
    the run signalling itself as ``signal`` says ('' for never)."""
    return run_tool(python_tool('train.py', cfg, '--work-dir', str(wd),
                                *args), cwd=str(cwd),
                    env_extra={'DHKD_SIGNAL': signal})


def python_tool(tool, *args):
    return [sys.executable, osp.join(REPO, 'tools', tool), *args]


def small_project(root, config='configs/dhkd/cifar100_res32x4_res8x4.py',
                  extra='', name='cfg.py', n_train=32, n_test=16):
    """Under ``root``: a 10-class CIFAR-format set in ``data/``, a resnet8
    teacher in ``teacher.pth``, and an override config of ``config`` on
    both (the teacher set in it); returns the config path."""
    if not (root / 'teacher.pth').is_file():
        write_random_cifar(str(root / 'data'), num_classes=10,
                           n_train=n_train, n_test=n_test)
        save_teacher(root / 'teacher.pth')
    extra = f"model['teacher_ckpt'] = {str(root / 'teacher.pth')!r}\n" + \
        extra
    return write_override_config(str(root / name), config,
                                 str(root / 'data'), extra=extra)


def load_tool(name):
    """A script of tools/ imported as a module, to call its functions."""
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO, 'tools', f'{name}.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool
