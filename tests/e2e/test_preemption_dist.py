"""A 2-process run (tools/dist_train.sh, gloo on the CPU) stopped by SIGTERM
on every rank, or to the script's process group: the script exits with the
"preempted" status, as one process does, though torchrun itself reports a
failure; and with
``randomness.diff_rank_seed=True`` (each rank draws its own augmentation)
the resumed run is bit-identical to the uninterrupted one: every rank's
generators are saved and each rank gets its own back."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from cls_utils import REPO, run_tool, small_project
from conftest import free_port
from dhkd_det.engine.hooks.preemption_hook import PREEMPTED_EXIT_CODE

# 32 images, batches of 8 on each of 2 ranks: 2 iterations an epoch, 4 in
# the run; the ranks agree on a stop after every iteration
EXTRA = '''
custom_imports = dict(imports=['dhkd_det', 'signal_hook'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='DHKDHook'), dict(type='LossGuardHook'),
                dict(type='PreemptionHook', check_interval=1),
                dict(type='SendSignalAtIterHook'),
                dict(type='SendSignalAfterEpochHook')]
train_dataloader['batch_size'] = 8
randomness = dict(seed=0, diff_rank_seed=True)
'''


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp('dist_preempt')
    return root, small_project(root, extra=EXTRA)


def dist_train(project, wd, *args, signal=''):
    root, cfg = project
    return run_tool(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), cfg,
                     '2', '--work-dir', str(wd), *args], cwd=str(root),
                    env_extra={'PORT': str(free_port()),
                               'PYTHON': sys.executable,
                               'DHKD_SIGNAL': signal})


def final_weights(wd):
    return torch.load(wd / 'epoch_2.pth')['state_dict']


@pytest.fixture(scope='module')
def uninterrupted(project):
    wd = project[0] / 'uninterrupted'
    proc = dist_train(project, wd)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return final_weights(wd)


@pytest.fixture(scope='module', params=['TERM:iter:3', 'TERM:epoch:1'])
def preempted(project, tmp_path_factory, request):
    """Stopped in epoch 2 after its first batch, or after epoch 1's
    checkpoint (before its validation)."""
    wd = tmp_path_factory.mktemp('preempted') / 'wd'
    return wd, dist_train(project, wd, signal=request.param)


@pytest.mark.slow
def test_preempted_dist_train_exits_with_the_preempted_status(preempted):
    wd, proc = preempted
    assert proc.returncode == PREEMPTED_EXIT_CODE, proc.stderr[-5000:]
    saved = (wd / 'last_checkpoint').read_text()
    assert osp.basename(saved).startswith('preempted_iter_')
    assert osp.isfile(saved)


@pytest.mark.slow
def test_sigterm_to_the_whole_job_exits_with_the_preempted_status(
        project, tmp_path):
    """SIGTERM to the process group of tools/dist_train.sh (the shell and
    torchrun, as scancel or a kill of the job sends it): the shell waits
    for torchrun, which passes the signal on to its processes; they save
    and the script exits with 75, not the shell's 143."""
    root, cfg = project
    wd = tmp_path / 'wd'
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [REPO, osp.join(REPO, 'tests'), os.environ.get('PYTHONPATH', '')]),
        PORT=str(free_port()), PYTHON=sys.executable,
        DHKD_SIGNAL='TERM:iter:3:launcher')
    # its own process group, which the signal goes to (not this one)
    proc = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), cfg, '2',
         '--work-dir', str(wd)], cwd=str(root), env=env, capture_output=True,
        text=True, timeout=600, start_new_session=True)
    assert proc.returncode == PREEMPTED_EXIT_CODE, proc.stderr[-5000:]
    assert 'SIGTERM: waiting for the processes to save' in proc.stderr
    saved = (wd / 'last_checkpoint').read_text()
    assert osp.basename(saved).startswith('preempted_iter_')
    assert osp.isfile(saved)


@pytest.mark.slow
def test_diff_rank_seed_run_resumes_bit_identically(project, uninterrupted,
                                                    preempted):
    wd, proc = preempted
    assert proc.returncode in (1, PREEMPTED_EXIT_CODE), proc.stderr[-5000:]
    proc = dist_train(project, wd, '--resume')
    assert proc.returncode == 0, proc.stderr[-5000:]
    resumed = final_weights(wd)
    assert resumed.keys() == uninterrupted.keys()
    assert [k for k in resumed
            if not torch.equal(resumed[k], uninterrupted[k])] == []
