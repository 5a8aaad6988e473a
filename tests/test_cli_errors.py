"""Inputs that used to fail with a correct but cryptic error, fed to the real
tools/train.py: each now stops before training with an error that names the
cause and the fix."""
import pytest

from cls_utils import REPO, python_tool, run_tool, small_project
from conftest import make_cifar

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
    # the real config's data_root 'data/cifar100', run outside the repo
    proc = run_tool(python_tool('train.py', f'{REPO}/{CONFIG}',
                                '--work-dir', str(tmp_path / 'wd')),
                    cwd=str(tmp_path))
    assert proc.returncode != 0
    assert "train_dataloader.dataset.data_root='data/cifar100' does not " \
        'exist (a relative path: relative to the current folder ' \
        f'{tmp_path}, so run the tool from the folder that holds it' \
        in proc.stderr, proc.stderr[-3000:]
    assert '--cfg-options train_dataloader.dataset.data_root=' in proc.stderr


def test_data_root_that_is_a_file(setup, tmp_path):
    root, cfg = setup
    a_file = tmp_path / 'cifar100.tar.gz'
    a_file.write_bytes(b'')
    err = train(cfg, tmp_path, '--cfg-options',
                f'train_dataloader.dataset.data_root={a_file}')
    assert f"train_dataloader.dataset.data_root='{a_file}' is a file, not " \
        'the folder that holds the data. Point it at the data: ' \
        '--cfg-options train_dataloader.dataset.data_root=' in err, \
        err[-3000:]

