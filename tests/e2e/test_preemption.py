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
