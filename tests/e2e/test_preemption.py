"""SIGTERM (preemption) or SIGUSR1 (slurm's warning before the time limit)
mid-epoch: tools/train.py finishes the iteration, writes a checkpoint, exits
with the "preempted" status, and --resume continues mid-epoch to the same
iteration count as an uninterrupted run."""
import pytest
import torch

from cls_utils import SIGNAL_HOOKS, small_project, train_signalled
from dhkd_det.engine.hooks.preemption_hook import PREEMPTED_EXIT_CODE

# 48 images in batches of 16: 3 iterations an epoch, 6 in the run
EXTRA = SIGNAL_HOOKS + '''
default_hooks = dict(checkpoint=dict(interval=10))
'''

@pytest.mark.slow
@pytest.mark.parametrize('name', ['TERM', 'USR1'])
def test_signal_mid_epoch_saves_and_resume_finishes_the_run(tmp_path, name):
    cfg = small_project(tmp_path, extra=EXTRA, n_train=48)
    wd = tmp_path / 'wd'
    proc = train_signalled(cfg, wd, tmp_path, signal=f'{name}:iter:4')
    out = proc.stdout + proc.stderr
    assert proc.returncode == PREEMPTED_EXIT_CODE, out[-5000:]
    assert f'stopped by SIG{name} after iteration 4' in out
    saved = wd / 'preempted_iter_4.pth'
    assert (wd / 'last_checkpoint').read_text() == str(saved)
    meta = torch.load(saved)['meta']
    assert (meta['epoch'], meta['iter'], meta['epoch_batches_done']) == \
        (1, 4, 1)

    proc = train_signalled(cfg, wd, tmp_path, '--resume')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert 'resumed epoch: 1, iter: 4' in out
    assert 'resuming epoch 2 after its batch 1' in out
    # interval=10: the end of the run is saved, at the uninterrupted count
    assert torch.load(wd / 'epoch_2.pth')['meta']['iter'] == 6


@pytest.mark.slow
@pytest.mark.parametrize('batch_size', [8, 48])
def test_resume_in_epoch_1_with_other_batches_per_epoch_is_refused(
        tmp_path, batch_size):
    """Stopped after batch 1 of epoch 1 (3 batches an epoch), resumed with
    6 batches an epoch (images would train twice) or 1 (the epoch would
    train nothing): refused, as a resize later in the run is."""
    cfg = small_project(tmp_path, extra=EXTRA, n_train=48)
    wd = tmp_path / 'wd'
    proc = train_signalled(cfg, wd, tmp_path, signal='TERM:iter:1')
    assert proc.returncode == PREEMPTED_EXIT_CODE, proc.stderr[-5000:]
    meta = torch.load(wd / 'preempted_iter_1.pth')['meta']
    assert (meta['epoch'], meta['epoch_batches_done']) == (0, 1)

    proc = train_signalled(cfg, wd, tmp_path, '--resume', '--cfg-options',
                           f'train_dataloader.batch_size={batch_size}')
    assert proc.returncode not in (0, PREEMPTED_EXIT_CODE), \
        proc.stderr[-5000:]
    assert 'written after batch 1 of 3 of epoch 1' in proc.stderr
    assert f'the epochs of this run have {48 // batch_size} batches' in \
        proc.stderr
    assert 'Epoch(train)' not in proc.stdout + proc.stderr
    assert not (wd / 'epoch_1.pth').exists()
