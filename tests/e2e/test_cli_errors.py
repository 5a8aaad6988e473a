"""Inputs that used to fail with a correct but cryptic error, fed to the real
tools/train.py: each now stops before training with an error that names the
cause and the fix."""
import os
import os.path as osp
import sys

import pytest

from cls_utils import (REPO, TESTS, python_tool, run_tool, save_teacher,
                       small_project)
from conftest import make_cifar
from dhkd_det.testing import write_cifar_archive

pytestmark = pytest.mark.slow  # each test runs a tool in a subprocess

CONFIG = 'configs/dhkd/cifar100_res32x4_res8x4.py'


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('cli_errors')
    cfg = small_project(root, CONFIG)
    return root, cfg


def train(cfg, cwd, *args, env=None):
    proc = run_tool(python_tool('train.py', cfg, '--work-dir',
                                str(cwd / 'wd'), *args), cwd=str(cwd),
                    env_extra=env)
    assert proc.returncode != 0
    assert not (cwd / 'wd').exists() or not list((cwd / 'wd').glob('*.pth'))
    return proc.stderr


def test_launcher_pytorch_without_torchrun(setup, tmp_path):
    root, cfg = setup
    err = train(cfg, tmp_path, '--launcher', 'pytorch')
    assert '--launcher pytorch needs the environment torchrun gives each ' \
        'process (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT not set)' in err
    assert 'bash tools/dist_train.sh CONFIG NUM_GPUS' in err


def test_amp_without_a_gpu(setup, tmp_path):
    root, cfg = setup
    err = train(cfg, tmp_path, '--amp', env={'CUDA_VISIBLE_DEVICES': ''})
    assert '--amp needs a GPU' in err and 'drop --amp' in err


def test_labels_beyond_num_classes(setup, tmp_path):
    root, cfg = setup
    # data with 100 classes, the model predicts the config's 10
    make_cifar(str(tmp_path / 'data100'), num_classes=100, n_train=200,
               n_test=100)
    root100 = tmp_path / 'data100'
    err = train(cfg, tmp_path, '--cfg-options',
                f'train_dataloader.dataset.data_root={root100}',
                f'val_dataloader.dataset.data_root={root100}')
    assert f"train_dataloader.dataset (CIFAR100 at data_root '{root100}') " \
        'has labels up to 99 (100 classes) but the model predicts 10 ' \
        'classes' in err, err[-3000:]
    assert 'model.student.network.num_classes=100' in err
    assert 'IndexError' not in err
    # tools/test.py checks its test set the same way, before loading
    ckpt = tmp_path / 'any.pth'
    ckpt.write_bytes(b'')
    proc = run_tool(python_tool(
        'test.py', cfg, str(ckpt), '--work-dir', str(tmp_path / 'twd'),
        '--cfg-options', f'test_dataloader.dataset.data_root={root100}'),
        cwd=str(tmp_path))
    assert proc.returncode != 0 and 'metrics:' not in proc.stdout
    assert f"test_dataloader.dataset (CIFAR100 at data_root '{root100}') " \
        'has labels up to 99' in proc.stderr, proc.stderr[-3000:]


def test_cfg_option_that_is_no_model_argument(setup, tmp_path):
    root, cfg = setup
    err = train(cfg, tmp_path, '--cfg-options', 'model.temperature=4')
    assert "--cfg-options model.temperature: 'temperature' is not an " \
        'argument of model (ClsDistiller); its arguments are student, ' \
        'teacher, teacher_ckpt, task_losses, distill_losses' in err, \
        err[-3000:]
    err = train(cfg, tmp_path, '--cfg-options', 'model.student.aux=linear')
    assert "'aux' is not an argument of model.student " \
        '(DualHeadClassifier); its arguments are network, aux_head' in err, \
        err[-3000:]


def test_default_relative_data_root_from_another_folder(tmp_path):
    # the real config's data_root 'data/cifar100', run outside the repo,
    # without the download (which test_quick_start_* cover)
    proc = run_tool(python_tool('train.py', f'{REPO}/{CONFIG}',
                                '--work-dir', str(tmp_path / 'wd'),
                                '--cfg-options',
                                'train_dataloader.dataset.download=False'),
                    cwd=str(tmp_path))
    assert proc.returncode != 0
    assert "train_dataloader.dataset.data_root='data/cifar100' does not " \
        'exist (a relative path: relative to the current folder ' \
        f'{tmp_path}, so run the tool from the folder that holds it' \
        in proc.stderr, proc.stderr[-3000:]
    assert '--cfg-options train_dataloader.dataset.data_root=' in proc.stderr
    # the validation set, which would download, in the same report
    assert 'val_dataloader.dataset.data_root: CIFAR-100 is not in ' \
        'data/cifar100/cifar-100-python' in proc.stderr


def stubbed_download(*args):
    """The command line run with CIFAR-100's download replaced
    (tests/cifar_download_stub.py)."""
    return [sys.executable, osp.join(TESTS, 'cifar_download_stub.py'),
            *python_tool(*args)[1:]]


def test_quick_start_fetches_cifar100(tmp_path):
    # the README's first command, in a folder without data/, its teacher
    # placed
    archive = str(tmp_path / 'cifar-100-python.tar.gz')
    write_cifar_archive(archive, num_classes=100, n_train=8, n_test=4)
    teacher = tmp_path / 'resnet32x4.pth'
    save_teacher(teacher, arch='resnet32x4', num_classes=100)
    proc = run_tool(stubbed_download(
        'train.py', f'{REPO}/{CONFIG}', '--work-dir', str(tmp_path / 'wd'),
        # the stand-in data is not the official release
        '--cfg-options', 'train_dataloader.dataset.check_md5=False',
        'val_dataloader.dataset.check_md5=False', 'train_cfg.max_epochs=1',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.persistent_workers=False',
        f'model.teacher_ckpt={teacher}'), cwd=str(tmp_path),
        env_extra={'STUB_CIFAR_ARCHIVE': archive})
    output = proc.stdout + proc.stderr
    root = tmp_path / 'data' / 'cifar100'
    assert f'CIFAR-100 is not in {root}/cifar-100-python: downloading ' \
        'https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz' \
        in output, output[-3000:]
    assert sorted(os.listdir(root / 'cifar-100-python')) == \
        ['meta', 'test', 'train']


def test_a_fresh_machine_gets_one_report(tmp_path):
    # the README's first command, offline, in a folder without data/ and
    # checkpoints/: both missing things at once, in a few lines
    proc = run_tool(stubbed_download('train.py', f'{REPO}/{CONFIG}',
                                     '--work-dir', str(tmp_path / 'wd')),
                    cwd=str(tmp_path))
    assert proc.returncode == 1
    console = (proc.stdout + proc.stderr).splitlines()
    assert len(console) <= 40, '\n'.join(console)
    err = proc.stderr
    assert f'pre-flight of {REPO}/{CONFIG}: 3 problems; nothing was ' \
        'built or started.' in err, err[-3000:]
    for key in ('train_dataloader.dataset.data_root',
                'val_dataloader.dataset.data_root', 'model.teacher_ckpt'):
        assert f'{key}: ' in err
    assert 'Traceback' not in err
    log = err.rstrip().splitlines()[-1].split(
        'the full log, with the traceback: ')[1]
    assert 'Traceback (most recent call last)' in open(log).read()
    assert not (tmp_path / 'data').exists()  # no empty data root left


def test_launcher_slurm_outside_slurm(setup, tmp_path):
    root, cfg = setup
    err = train(cfg, tmp_path, '--launcher', 'slurm')
    assert '--launcher slurm needs the environment srun gives each task ' \
        '(SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST not set)' in err, \
        err[-3000:]
    assert "KeyError: 'SLURM_PROCID'" not in err


def test_quick_start_offline_names_the_archive_to_place(tmp_path):
    proc = run_tool(stubbed_download('train.py', f'{REPO}/{CONFIG}',
                                     '--work-dir', str(tmp_path / 'wd')),
                    cwd=str(tmp_path))
    assert proc.returncode != 0
    root = tmp_path / 'data' / 'cifar100'
    assert 'train_dataloader.dataset.data_root: CIFAR-100 is not in ' \
        'data/cifar100/cifar-100-python (relative to the current folder ' \
        f'{tmp_path}) and its download address ' \
        'https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz cannot be ' \
        'reached (no network in the tests)' in proc.stderr, \
        proc.stderr[-3000:]
    assert 'Without network access, place cifar-100-python.tar.gz (md5 ' \
        'eb9058c3a382ffc7106e4002c42a8d85, from ' \
        'https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz) in ' \
        f'{root}/' in proc.stderr
    assert not root.exists()


def test_data_root_that_is_a_file(setup, tmp_path):
    root, cfg = setup
    a_file = tmp_path / 'cifar100.tar.gz'
    a_file.write_bytes(b'')
    err = train(cfg, tmp_path, '--cfg-options',
                f'train_dataloader.dataset.data_root={a_file}')
    assert f"train_dataloader.dataset.data_root='{a_file}' is a file, not " \
        'the folder that holds the data\n    fix: Point it at the data: ' \
        '--cfg-options train_dataloader.dataset.data_root=' in err, \
        err[-3000:]


def test_empty_cifar_split(setup, tmp_path):
    root, cfg = setup
    make_cifar(str(tmp_path / 'empty_test'), num_classes=10, n_train=10,
               n_test=0)
    err = train(cfg, tmp_path, '--cfg-options',
                f'val_dataloader.dataset.data_root={tmp_path}/empty_test')
    assert f'{tmp_path}/empty_test/cifar-100-python/test holds no images ' \
        '(data has shape (0, 3072))' in err, err[-3000:]


def test_slurm_test_sh_runs_test_py_with_srun(tmp_path):
    """tools/slurm_test.sh beside slurm_train.sh: srun (a stand-in that
    records its arguments) starts tools/test.py with --launcher slurm and
    the flags given."""
    fake = tmp_path / 'bin' / 'srun'
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$SRUN_ARGS_FILE"\n')
    fake.chmod(0o755)
    recorded = tmp_path / 'args.txt'
    proc = run_tool(['bash', osp.join(REPO, 'tools', 'slurm_test.sh'),
                     'gpu', 'job', 'cfg.py', 'model.pth', '--out', 'p.pkl'],
                    cwd=str(tmp_path),
                    env_extra={'PATH': f'{fake.parent}:{os.environ["PATH"]}',
                               'SRUN_ARGS_FILE': str(recorded),
                               'GPUS': '16'})
    assert proc.returncode == 0, proc.stderr
    args = recorded.read_text().split('\n')
    assert args[:2] == ['-p', 'gpu'] and '--ntasks=16' in args
    at = args.index(osp.join(REPO, 'tools', 'test.py'))
    assert args[at - 2:at] == ['python', '-u']
    assert args[at + 1:at + 6] == ['cfg.py', 'model.pth', '--launcher=slurm',
                                   '--out', 'p.pkl']


def test_a_start_that_fails_after_the_runner_is_built_is_short(setup,
                                                                tmp_path):
    # a teacher checkpoint of another architecture is found when the
    # teacher loads (DHKDHook, before the first epoch): MMEngine has printed
    # its environment, config and hook table by then, held back until now
    root, cfg = setup
    wrong = tmp_path / 'resnet20.pth'
    save_teacher(wrong, arch='resnet20', num_classes=10)
    proc = run_tool(python_tool('train.py', cfg, '--work-dir',
                                str(tmp_path / 'wd'), '--cfg-options',
                                f'model.teacher_ckpt={wrong}'),
                    cwd=str(tmp_path))
    assert proc.returncode == 1
    console = (proc.stdout + proc.stderr).splitlines()
    assert len(console) <= 40, '\n'.join(console)
    assert f'teacher checkpoint (model.teacher_ckpt) {wrong} does not fit ' \
        'model.teacher (ResNet)' in proc.stderr, proc.stderr[-3000:]
    assert 'System environment' not in proc.stdout + proc.stderr
    log = proc.stderr.rstrip().splitlines()[-1].split(
        'the full log, with the traceback: ')[1]
    text = open(log).read()
    assert 'Traceback (most recent call last)' in text
    assert 'System environment' in text and 'Config:' in text
    # the same command with its own teacher starts: the console is
    # MMEngine's, environment and config first
    proc = run_tool(python_tool('train.py', cfg, '--work-dir',
                                str(tmp_path / 'wd_ok'), '--cfg-options',
                                'train_cfg.max_epochs=1'),
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert out.index('System environment') < out.index('Config:') < \
        out.index('Epoch(train) [1]')
