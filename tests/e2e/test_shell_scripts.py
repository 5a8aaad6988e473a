"""tools/dist_train.sh, dist_test.sh, slurm_train.sh and slurm_sbatch.sh
pass every argument on as given: a config path, a work dir or a
--cfg-options value holding a space stays one argument.  srun, scontrol and
the interpreter are stand-ins that record the arguments they get (no slurm
here); dist_train.sh also trains for real from a config and into a work dir
whose paths hold spaces."""
import os
import os.path as osp
import stat
import sys

import pytest
import torch

from cls_utils import REPO, run_tool, small_project
from conftest import free_port

RECORDER = '''#!/usr/bin/env bash
# records its arguments, one per NUL-ended field, then exits with $EXIT_WITH
printf '%s\\0' "$@" > "$RECORD"
exit "${EXIT_WITH:-0}"
'''
CONFIG = 'my configs/the cfg.py'
WORK_DIR = 'work dirs/run 1'
OPTION = 'model.teacher_ckpt=teachers/a teacher.pth'


@pytest.fixture
def recorder(tmp_path):
    """A folder put first on PATH holding srun and scontrol stand-ins (and
    the interpreter stand-in at ``bin/python``); ``calls(name)`` gives the
    arguments the last call of one got."""
    bin_dir = tmp_path / 'stand ins'
    bin_dir.mkdir()
    for name in ('srun', 'scontrol', 'python'):
        path = bin_dir / name
        path.write_text(RECORDER.replace('$RECORD', f'$RECORD.{name}'))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    record = tmp_path / 'record'

    def run(script, *args, exit_with=0, **env):
        return run_tool(['bash', osp.join(REPO, 'tools', script), *args],
                        cwd=str(tmp_path), env_extra=dict(
                            PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
                            PYTHON=str(bin_dir / 'python'),
                            RECORD=str(record), EXIT_WITH=str(exit_with),
                            **env))

    def calls(name):
        path = f'{record}.{name}'
        if not osp.exists(path):
            return None
        with open(path) as f:
            return f.read().split('\0')[:-1]

    return run, calls


def after(args, first):
    """The arguments from ``first`` on."""
    return args[args.index(first):]


def test_dist_train_quotes_its_arguments(recorder):
    run, calls = recorder
    proc = run('dist_train.sh', CONFIG, '2', '--work-dir', WORK_DIR,
               '--cfg-options', OPTION)
    assert proc.returncode == 0, proc.stderr
    args = calls('python')
    assert args[:2] == ['-m', 'torch.distributed.run']
    assert '--nproc_per_node=2' in args
    assert after(args, CONFIG) == [CONFIG, '--launcher', 'pytorch',
                                   '--work-dir', WORK_DIR, '--cfg-options',
                                   OPTION]


def test_dist_test_quotes_its_arguments(recorder):
    run, calls = recorder
    proc = run('dist_test.sh', CONFIG, 'check points/epoch 1.pth', '2',
               '--out', 'the metrics.json')
    assert proc.returncode == 0, proc.stderr
    assert after(calls('python'), CONFIG) == [
        CONFIG, 'check points/epoch 1.pth', '--launcher', 'pytorch',
        '--out', 'the metrics.json']


def test_slurm_train_quotes_its_arguments(recorder):
    run, calls = recorder
    proc = run('slurm_train.sh', 'the partition', 'job 1', CONFIG, WORK_DIR,
               '--cfg-options', OPTION, SRUN_ARGS='--exclusive --qos=high')
    assert proc.returncode == 0, proc.stderr
    args = calls('srun')
    assert args[:2] == ['-p', 'the partition']
    assert '--job-name=job 1' in args
    assert '--exclusive' in args and '--qos=high' in args
    assert after(args, '-u')[1:3] == [osp.join(REPO, 'tools', 'train.py'),
                                      CONFIG]
    assert after(args, CONFIG) == [CONFIG, f'--work-dir={WORK_DIR}',
                                   '--launcher=slurm', '--cfg-options',
                                   OPTION]


@pytest.mark.parametrize('status,requeued', [(0, False), (75, True)])
def test_slurm_sbatch_quotes_its_arguments_and_requeues_on_75(
        recorder, status, requeued):
    run, calls = recorder
    proc = run('slurm_sbatch.sh', CONFIG, WORK_DIR, '--cfg-options', OPTION,
               exit_with=status, SLURM_SUBMIT_DIR='/the repo', SLURM_JOB_ID='7')
    assert proc.returncode == status, proc.stderr
    args = calls('srun')
    assert after(args, '/the repo/tools/train.py') == [
        '/the repo/tools/train.py', CONFIG, f'--work-dir={WORK_DIR}',
        '--launcher=slurm', '--resume', '--cfg-options', OPTION]
    assert calls('scontrol') == (['requeue', '7'] if requeued else None)


def test_dist_train_trains_from_paths_with_spaces(tmp_path):
    root = tmp_path / 'a project'
    root.mkdir()
    cfg = small_project(root, name='the cfg.py')
    wd = tmp_path / 'work dir'
    # (not a --cfg-options value with a space: MMEngine's DictAction drops
    # the spaces inside values, whatever the script passes)
    proc = run_tool(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), cfg,
                     '1', '--work-dir', str(wd), '--cfg-options',
                     'train_cfg.max_epochs=1'], cwd=str(tmp_path),
                    env_extra={'PORT': str(free_port()),
                               'PYTHON': sys.executable})
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert torch.load(wd / 'epoch_1.pth')['meta']['epoch'] == 1
