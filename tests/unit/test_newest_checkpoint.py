"""``--resume`` without a path never leaves its work dir: a copied work dir
keeps the old run's absolute path in ``last_checkpoint``, and a truncated
newest checkpoint must not send the resume to that other run's file."""
import shutil

import pytest
import torch

from mmengine.config import Config

import dhkd_det.apis.newest_checkpoint as newest_checkpoint
from dhkd_det.apis.newest_checkpoint import checkpoint_dir, \
    newest_complete_checkpoint


@pytest.fixture
def logged(monkeypatch):
    messages = []
    monkeypatch.setattr(newest_checkpoint, 'print_log',
                        lambda msg, *args, **kwargs: messages.append(msg))
    return messages


def write_run(wd, epochs=3):
    wd.mkdir()
    for epoch in range(1, epochs + 1):
        torch.save({'meta': {'epoch': epoch, 'iter': 10 * epoch},
                    'state_dict': {}}, wd / f'epoch_{epoch}.pth')
    (wd / 'last_checkpoint').write_text(str(wd / f'epoch_{epochs}.pth'))


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def test_copied_work_dir_with_a_truncated_newest_stays_in_its_dir(
        tmp_path, logged):
    old, new = tmp_path / 'run_a', tmp_path / 'run_b'
    write_run(old)
    shutil.copytree(old, new)  # last_checkpoint still names run_a's file
    truncate(new / 'epoch_3.pth')
    assert newest_complete_checkpoint(str(new)) == str(new / 'epoch_2.pth')
    text = '\n'.join(logged)
    assert f'{new / "last_checkpoint"} names {old / "epoch_3.pth"}' in text
    assert f'outside {new}' in text
    assert f'{new / "epoch_3.pth"}' in text  # resolved by name, truncated
    assert 'is truncated' in text


def test_last_checkpoint_outside_the_work_dir_is_ignored_without_a_copy(
        tmp_path, logged):
    old, new = tmp_path / 'run_a', tmp_path / 'run_b'
    write_run(old, epochs=3)
    write_run(new, epochs=1)
    (new / 'last_checkpoint').write_text(str(old / 'epoch_3.pth'))
    assert newest_complete_checkpoint(str(new)) == str(new / 'epoch_1.pth')
    text = '\n'.join(logged)
    assert f'names {old / "epoch_3.pth"}' in text
    assert 'ignored' in text


def test_every_checkpoint_here_damaged_raises_instead_of_leaving(tmp_path,
                                                                 logged):
    old, new = tmp_path / 'run_a', tmp_path / 'run_b'
    write_run(old, epochs=2)
    shutil.copytree(old, new)
    truncate(new / 'epoch_1.pth')
    truncate(new / 'epoch_2.pth')
    # the error is the one of the file last_checkpoint names, found here
    with pytest.raises(ValueError, match=f'{new / "epoch_2.pth"} is trunc'):
        newest_complete_checkpoint(str(new))


def test_the_checkpoint_hooks_out_dir_is_the_runs_own(tmp_path, logged):
    wd, out = tmp_path / 'wd', tmp_path / 'store'
    wd.mkdir()
    out.mkdir()
    write_run(out / 'wd', epochs=2)  # MMEngine appends the work dir's name
    (wd / 'last_checkpoint').write_text(str(out / 'wd' / 'epoch_2.pth'))
    cfg = Config(dict(work_dir=str(wd) + '/', default_hooks=dict(
        checkpoint=dict(type='CheckpointHook', out_dir=str(out)))))
    assert checkpoint_dir(cfg) == str(out / 'wd')
    assert newest_complete_checkpoint(str(wd), checkpoint_dir(cfg)) == str(
        out / 'wd' / 'epoch_2.pth')
    assert not any('outside' in m for m in logged)
