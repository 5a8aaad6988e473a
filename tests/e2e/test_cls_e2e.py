"""End to end through the real tools: train (DHKD config, GA on), test,
resume under torch's weights_only default, 2-process torchrun, export."""
import os.path as osp

import pytest
import torch

from cls_utils import (REPO, python_tool, run_tool, save_teacher,
                       write_override_config)
from conftest import free_port, make_cifar
from dhkd_det.analysis import read_run

CONFIG = 'configs/dhkd/cifar100_res32x4_res8x4.py'


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('cls_e2e')
    data = root / 'data'
    make_cifar(str(data), num_classes=10, n_train=64, n_test=32)
    save_teacher(root / 'teacher.pth')
    cfg = write_override_config(str(root / 'cfg.py'), CONFIG, str(data))
    return root, cfg


def check(proc):
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def trained(setup):
    """The DHKD config trained 2 epochs (GA on) in ``root/wd``."""
    root, cfg = setup
    wd = root / 'wd'
    out = check(run_tool(python_tool(
        'train.py', cfg, '--work-dir', str(wd), '--cfg-options',
        f'model.teacher_ckpt={root / "teacher.pth"}',
        f'train_dataloader.dataset.data_root={root / "data"}',
        f'val_dataloader.dataset.data_root={root / "data"}',
        'train_cfg.max_epochs=2', 'train_dataloader.batch_size=16'),
        cwd=str(root)))
    return root, cfg, wd, out


def test_train_test_resume(trained):
    root, cfg, wd, out = trained
    assert 'loss_binary_kl_norm_aux' in out and 'loss_ce_main' in out
    assert 'teacher_agree' in out
    assert (wd / 'epoch_2.pth').is_file()
    ckpt = torch.load(wd / 'epoch_2.pth')  # weights_only=True default
    assert not any(k.startswith('teacher') for k in ckpt['state_dict'])
    assert any('aux_head' in k for k in ckpt['state_dict'])

    out = check(run_tool(python_tool(
        'test.py', cfg, str(wd / 'epoch_2.pth'), '--work-dir',
        str(root / 'test_wd'), '--metrics-out', str(root / 'metrics.json'),
        '--out', str(root / 'predictions.pkl')), cwd=str(root)))
    assert 'top1' in out and 'aux/top1' in out
    # --out: the predictions, one per test image (MMEngine's DumpResults)
    from mmengine.fileio import load
    assert len(load(str(root / 'predictions.pkl'))) == 32
    import json
    metrics = json.load(open(root / 'metrics.json'))
    # the same weights on the same set: training's last validation
    _, top1 = read_run(str(wd)).series('val', 'top1')
    assert metrics['top1'] == pytest.approx(top1[-1])

    out = check(run_tool(python_tool(
        'train.py', cfg, '--work-dir', str(wd), '--resume', '--cfg-options',
        f'model.teacher_ckpt={root / "teacher.pth"}', 'train_cfg.max_epochs=3'),
        cwd=str(root)))
    assert 'resumed epoch: 2' in out
    assert 'Epoch(train) [3]' in out and 'Epoch(train) [1]' not in out
    assert (wd / 'epoch_3.pth').is_file()


def test_export_student_loads_into_plain_network(trained):
    root, cfg, wd, _ = trained
    dst = root / 'student.pth'
    check(run_tool(python_tool('export_student.py', str(wd / 'epoch_2.pth'),
                               str(dst)), cwd=str(root)))
    from mmengine.registry import MODELS
    import dhkd_det  # noqa: F401
    plain = MODELS.build(dict(type='resnet8', num_classes=10))
    state = torch.load(dst)['state_dict']
    plain.load_state_dict(state, strict=True)
    full = torch.load(wd / 'epoch_2.pth')['state_dict']
    assert torch.equal(state['fc.weight'], full['student.network.fc.weight'])


def test_bad_teacher_checkpoint_is_a_clear_error(setup):
    root, cfg = setup
    proc = run_tool(python_tool(
        'train.py', cfg, '--work-dir', str(root / 'wd_bad'), '--cfg-options',
        f'model.teacher_ckpt={root / "missing.pth"}'), cwd=str(root))
    assert proc.returncode != 0
    assert 'missing.pth' in proc.stderr and 'teacher_ckpt' in proc.stderr


def test_cfg_option_typo_is_a_clear_error(setup):
    root, cfg = setup
    proc = run_tool(python_tool(
        'train.py', cfg, '--cfg-options', 'model.teacher_ckp=x.pth'),
        cwd=str(root))
    assert proc.returncode != 0
    assert "did you mean 'teacher_ckpt'" in proc.stderr


def test_two_process_training_keeps_replicas_identical(setup, tmp_path):
    root, cfg = setup
    dist_cfg = tmp_path / 'dist_cfg.py'
    dist_cfg.write_text(
        f'_base_ = {str(cfg)!r}\n'
        "custom_imports = dict(imports=['dhkd_det', 'rank_weights_hook'],\n"
        '                      allow_failed_imports=False)\n'
        "custom_hooks = [dict(type='DHKDHook'),\n"
        "                dict(type='RankWeightsDumpHook')]\n"
        'train_cfg = dict(max_epochs=1)\n'
        'train_dataloader = dict(batch_size=8)\n')
    wd = tmp_path / 'wd'
    proc = run_tool(['bash', osp.join(REPO, 'tools', 'dist_train.sh'),
                     str(dist_cfg), '2', '--work-dir', str(wd),
                     '--cfg-options',
                     f'model.teacher_ckpt={root / "teacher.pth"}'],
                    cwd=str(tmp_path),
                    env_extra={'PORT': str(free_port())})
    check(proc)
    s0 = torch.load(wd / 'student_rank0.pth')
    s1 = torch.load(wd / 'student_rank1.pth')
    assert s0.keys() == s1.keys()
    for k in s0:
        assert torch.equal(s0[k], s1[k]), k
    saved = torch.load(wd / 'epoch_1.pth')['state_dict']
    for k, v in s0.items():  # rank 0's checkpoint holds the same weights
        assert torch.equal(saved[f'student.{k}'], v), k


def test_max_iters_through_cfg_options(setup):
    root, cfg = setup
    wd = root / 'wd_iters'
    out = check(run_tool(python_tool(
        'train.py', cfg, '--work-dir', str(wd), '--cfg-options',
        f'model.teacher_ckpt={root / "teacher.pth"}', 'train_cfg.max_iters=3'),
        cwd=str(root)))
    assert 'IterBasedTrainLoop' in out
    assert (wd / 'iter_3.pth').is_file()
    assert not (wd / 'iter_4.pth').exists()


def test_two_process_test_matches_single_process(trained, tmp_path):
    root, cfg, wd, _ = trained
    single = tmp_path / 'single.json'
    check(run_tool(python_tool('test.py', cfg, str(wd / 'epoch_2.pth'),
                               '--work-dir', str(tmp_path / 's'),
                               '--metrics-out', str(single)),
                   cwd=str(tmp_path)))
    double = tmp_path / 'double.json'
    check(run_tool(['bash', osp.join(REPO, 'tools', 'dist_test.sh'), cfg,
                    str(wd / 'epoch_2.pth'), '2', '--work-dir',
                    str(tmp_path / 'd'), '--metrics-out', str(double)],
                   cwd=str(tmp_path),
                   env_extra={'PORT': str(free_port())}))
    import json
    assert json.load(open(single)) == json.load(open(double))
