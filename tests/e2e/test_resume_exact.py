"""A resumed run is bit-identical on the CPU to the uninterrupted one: after
a kill at the end of an epoch and after a preemption mid-epoch (the
augmentation draws from torch's generator every step, the sampler shuffles
every epoch, and a validation follows each epoch).  A stop between an
epoch's checkpoint and its validation validates that epoch when resumed."""
import pytest
import torch

from dhkd_det.analysis import read_run
from dhkd_det.experiments.sweep import run_results

from cls_utils import SIGNAL_HOOKS, small_project, train_signalled
from dhkd_det.engine.hooks.preemption_hook import PREEMPTED_EXIT_CODE

# 48 images in batches of 16: 3 iterations an epoch, 9 in the run
EXTRA = SIGNAL_HOOKS + '''
train_cfg = dict(max_epochs=3)
'''


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp('exact')
    return root, small_project(root, extra=EXTRA, n_train=48)


def train(project, wd, *args, signal=''):
    root, cfg = project
    return train_signalled(cfg, wd, root, *args, signal=signal)


def final_weights(wd):
    return torch.load(wd / 'epoch_3.pth')['state_dict']


@pytest.fixture(scope='module')
def uninterrupted_wd(project):
    wd = project[0] / 'uninterrupted'
    proc = train(project, wd)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return wd


@pytest.fixture(scope='module')
def uninterrupted(uninterrupted_wd):
    return final_weights(uninterrupted_wd)


@pytest.mark.slow
@pytest.mark.parametrize('signal,status', [
    ('KILL:epoch:1', -9), ('TERM:iter:5', PREEMPTED_EXIT_CODE)])
def test_resumed_run_is_bit_identical(project, uninterrupted, tmp_path,
                                      signal, status):
    wd = tmp_path / 'wd'
    proc = train(project, wd, signal=signal)
    assert proc.returncode == status, proc.stderr[-5000:]
    proc = train(project, wd, '--resume')
    assert proc.returncode == 0, proc.stderr[-5000:]
    resumed = final_weights(wd)
    assert resumed.keys() == uninterrupted.keys()
    differ = [k for k in resumed if not torch.equal(resumed[k],
                                                    uninterrupted[k])]
    assert differ == []


@pytest.mark.slow
@pytest.mark.parametrize('epoch', [1, 3])
def test_stop_during_the_epoch_checkpoint_still_validates_that_epoch(
        project, uninterrupted_wd, uninterrupted, tmp_path, epoch):
    """SIGTERM while epoch 1's (or the last epoch's) checkpoint is written:
    the run stops before that epoch's validation, and the resumed run runs
    it first: the validations, the sweep's best and last top-1 and the
    weights are the uninterrupted run's."""
    wd = tmp_path / 'wd'
    proc = train(project, wd, signal=f'TERM:epoch:{epoch}')
    assert proc.returncode == PREEMPTED_EXIT_CODE, proc.stderr[-5000:]
    assert f'Epoch(val) [{epoch}]' not in proc.stdout + proc.stderr
    proc = train(project, wd, '--resume')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert f'Epoch(val) [{epoch}]' in out
    assert read_run(str(wd)).series('val', 'top1') == \
        read_run(str(uninterrupted_wd)).series('val', 'top1')
    assert run_results(str(wd)) == run_results(str(uninterrupted_wd))
    resumed = final_weights(wd)
    assert [k for k in resumed
            if not torch.equal(resumed[k], uninterrupted[k])] == []
