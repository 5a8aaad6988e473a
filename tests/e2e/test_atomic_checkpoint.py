"""A checkpoint save interrupted part-way through the write (killed, or
failing with an error) loses nothing: the previous checkpoint, the previous
best and ``last_checkpoint`` stay intact and ``--resume`` continues from
them, through the real tools/train.py with max_keep_ckpts=1.  A kill before
the first ``last_checkpoint`` or while a new best is being recorded loses
nothing either: ``--resume`` finds the newest complete checkpoint, and the
best file and its record agree."""
import os

import pytest
import torch

from cls_utils import python_tool, run_tool, small_project

CONFIG = 'configs/dhkd/cifar100_res32x4_res8x4.py'
pytestmark = pytest.mark.slow  # each test runs tools/train.py


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('atomic')
    cfg = small_project(root, CONFIG, extra='''
custom_imports = dict(imports=['dhkd_det', 'save_fault_hook'],
                      allow_failed_imports=False)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(
    interval=1, max_keep_ckpts=1, save_best='rising', rule='greater'))
val_evaluator = dict(_delete_=True, type='RisingMetric')
test_evaluator = val_evaluator
''')
    return root, cfg


def train(cfg, wd, cwd, *args, fault=''):
    return run_tool(python_tool('train.py', cfg, '--work-dir', str(wd),
                                *args), cwd=str(cwd),
                    env_extra={'DHKD_FAULT': fault})


def partial_files(wd):
    return [f for f in os.listdir(wd) if f.endswith('.partial')]


def last_checkpoint(wd):
    return (wd / 'last_checkpoint').read_text().strip()


@pytest.mark.parametrize('fault', ['kill', 'raise'])
def test_interrupted_save_then_resume(setup, tmp_path, fault):
    root, cfg = setup
    wd = tmp_path / 'wd'
    proc = train(cfg, wd, tmp_path, fault=f'{fault}:epoch_2.pth')
    assert proc.returncode != 0, proc.stderr[-3000:]
    if fault == 'raise':
        assert 'injected by the test' in proc.stderr
        assert f'writing {wd / "epoch_2.pth"} failed' in proc.stderr
        assert partial_files(wd) == []  # the half-written file is removed
    # epoch_1 (the one max_keep_ckpts=1 would have deleted first) is intact
    assert not (wd / 'epoch_2.pth').exists()
    assert last_checkpoint(wd) == str(wd / 'epoch_1.pth')
    assert torch.load(wd / 'epoch_1.pth')['meta']['epoch'] == 1
    assert (wd / 'best_rising_epoch_1.pth').is_file()

    proc = train(cfg, wd, tmp_path, '--resume')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert 'resumed epoch: 1' in out
    assert torch.load(wd / 'epoch_2.pth')['meta']['epoch'] == 2
    assert last_checkpoint(wd) == str(wd / 'epoch_2.pth')
    assert not (wd / 'epoch_1.pth').exists()  # deleted after epoch_2 landed
    assert partial_files(wd) == []  # a killed run's leftover is cleaned up


def test_interrupted_best_save_keeps_the_previous_best(setup, tmp_path):
    root, cfg = setup
    wd = tmp_path / 'wd'
    proc = train(cfg, wd, tmp_path, fault='kill:best_rising_epoch_2.pth')
    assert proc.returncode != 0
    # MMEngine deletes the previous best before writing the new one
    assert torch.load(wd / 'best_rising_epoch_1.pth')['meta']['epoch'] == 1
    assert not (wd / 'best_rising_epoch_2.pth').exists()
    assert last_checkpoint(wd) == str(wd / 'epoch_2.pth')

    proc = train(cfg, wd, tmp_path, '--resume', '--cfg-options',
                 'train_cfg.max_epochs=3')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert 'resumed epoch: 2' in out
    assert (wd / 'epoch_3.pth').is_file()
    assert (wd / 'best_rising_epoch_1.pth').is_file()


def best_record(path):
    info = torch.load(path)['message_hub']['runtime_info']
    return info['best_ckpt'], info['best_score']


def test_kill_before_the_first_last_checkpoint_resumes_from_it(setup,
                                                               tmp_path):
    root, cfg = setup
    wd = tmp_path / 'wd'
    proc = train(cfg, wd, tmp_path, fault='kill:last_checkpoint')
    assert proc.returncode != 0
    assert (wd / 'epoch_1.pth').is_file()
    assert not (wd / 'last_checkpoint').exists()

    proc = train(cfg, wd, tmp_path, '--resume')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert f'resuming from {wd / "epoch_1.pth"}' in out
    assert 'resumed epoch: 1' in out
    assert last_checkpoint(wd) == str(wd / 'epoch_2.pth')


def test_kill_while_recording_a_new_best_keeps_file_and_record_agreeing(
        setup, tmp_path):
    root, cfg = setup
    wd = tmp_path / 'wd'
    # epoch_2.pth's second write: the one that records the new best
    proc = train(cfg, wd, tmp_path, fault='kill:epoch_2.pth:2')
    assert proc.returncode != 0
    assert (wd / 'best_rising_epoch_2.pth').is_file()
    # the record the kill left names the previous best, still on disk
    assert best_record(wd / 'epoch_2.pth') == (
        str(wd / 'best_rising_epoch_1.pth'), 1)
    assert (wd / 'best_rising_epoch_1.pth').is_file()

    proc = train(cfg, wd, tmp_path, '--resume', '--cfg-options',
                 'train_cfg.max_epochs=3')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    # the newest best is recorded with its own score, the older one gone
    assert best_record(wd / 'epoch_3.pth') == (
        str(wd / 'best_rising_epoch_2.pth'), 2)
    assert sorted(f for f in os.listdir(wd) if f.startswith('best_')) == [
        'best_rising_epoch_2.pth']


@pytest.mark.parametrize('fault', ['kill', 'raise'])
def test_fault_while_the_first_best_is_recorded_keeps_file_and_record_agreeing(
        setup, tmp_path, fault):
    """Killed, or out of disk, while epoch_1.pth is written the second time
    to record the run's first best: the checkpoint left records no best,
    and the resumed run takes the best file on disk as its best (its score
    1 is not beaten by the resumed process's first validation, which
    scores 1 again) instead of starting the record afresh beside it."""
    root, cfg = setup
    wd = tmp_path / 'wd'
    proc = train(cfg, wd, tmp_path, fault=f'{fault}:epoch_1.pth:2')
    assert proc.returncode != 0
    assert (wd / 'best_rising_epoch_1.pth').is_file()
    info = torch.load(wd / 'epoch_1.pth')['message_hub']['runtime_info']
    assert 'best_ckpt' not in info

    proc = train(cfg, wd, tmp_path, '--resume')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert 'resumed epoch: 1' in out
    assert best_record(wd / 'epoch_2.pth') == (
        str(wd / 'best_rising_epoch_1.pth'), 1)
    assert sorted(f for f in os.listdir(wd) if f.startswith('best_')) == [
        'best_rising_epoch_1.pth']
