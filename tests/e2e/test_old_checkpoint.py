"""A checkpoint written before the package was laid out by job (commit
96d1cc5) still resumes, tests and exports with the current code, through
the real tools.  The checkpoint is made in the test: that commit's package,
tools and configs are taken from the repository's history into a temp dir
and its own ``tools/train.py`` trains 2 iterations."""
import json
import os
import shutil
import subprocess
import sys
import tarfile

import pytest
import torch
from mmengine.registry import MODELS

import dhkd_det  # noqa: F401
from cls_utils import (REPO, TESTS, python_tool, run_tool, small_project,
                       write_override_config)

#: the last commit of the former layout (everything under dhkd_det/engine/)
OLD_COMMIT = '96d1cc58e89ce64c29d4e15ca63f53d3b26d1f66'
CONFIG = 'configs/dhkd/cifar100_res32x4_res8x4.py'


@pytest.fixture(scope='module')
def old(tmp_path_factory):
    """(project root, checkpoint) of a resnet8 DHKD run (gradient
    alignment, as the DHKD config sets it), 1 epoch of 2 iterations, trained by the old code on the data
    and teacher ``small_project`` writes."""
    root = tmp_path_factory.mktemp('old_layout')
    tree = root / 'code_96d1cc5'
    archive = root / 'code.tar'
    with open(archive, 'wb') as f:
        proc = subprocess.run(
            ['git', '-C', REPO, 'archive', OLD_COMMIT, 'dhkd_det', 'tools',
             'configs'], stdout=f, stderr=subprocess.PIPE)
    if proc.returncode:
        pytest.skip(f'commit {OLD_COMMIT[:7]} is not in this clone\'s history '
                    f'(a shallow clone?): {proc.stderr.decode()[-300:]}')
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter='data')
    small_project(root)  # the data and teacher both codes use
    cfg = write_override_config(
        str(root / 'old_cfg.py'), str(tree / CONFIG), str(root / 'data'),
        extra=f"model['teacher_ckpt'] = {str(root / 'teacher.pth')!r}\n")
    wd = root / 'old_wd'
    proc = run_tool(
        [sys.executable, str(tree / 'tools' / 'train.py'), cfg, '--work-dir',
         str(wd), '--cfg-options', 'train_cfg.max_epochs=1'],
        cwd=str(root), env_extra={'PYTHONPATH': os.pathsep.join(
            [str(tree), TESTS])})
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = wd / 'epoch_1.pth'
    assert torch.load(ckpt)['meta']['iter'] == 2
    return root, ckpt


def test_old_checkpoint_resumes(old, tmp_path):
    root, ckpt = old
    cfg = small_project(root)  # the current config of the same run
    wd = tmp_path / 'wd'
    wd.mkdir()
    shutil.copy(ckpt, wd / 'epoch_1.pth')
    proc = run_tool(python_tool('train.py', cfg, '--work-dir', str(wd),
                                '--resume', str(wd / 'epoch_1.pth'),
                                '--cfg-options', 'train_cfg.max_epochs=2'),
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'resumed epoch: 1, iter: 2' in proc.stdout + proc.stderr
    resumed = torch.load(wd / 'epoch_2.pth')
    assert (resumed['meta']['epoch'], resumed['meta']['iter']) == (2, 4)


def test_old_checkpoint_tests_and_exports(old, tmp_path):
    root, ckpt = old
    cfg = small_project(root)
    out = tmp_path / 'metrics.json'
    proc = run_tool(python_tool('test.py', cfg, str(ckpt), '--work-dir',
                                str(tmp_path / 'twd'), '--metrics-out', str(out)),
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {'top1', 'aux/top1'} <= set(json.loads(out.read_text()))

    student = tmp_path / 'student.pth'
    proc = run_tool(python_tool('export_student.py', str(ckpt),
                                str(student)), cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = torch.load(student)['state_dict']
    plain = MODELS.build(dict(type='resnet8', num_classes=10))
    plain.load_state_dict(state, strict=True)
    saved = torch.load(ckpt)['state_dict']
    assert all(torch.equal(v, saved[f'student.network.{k}'])
               for k, v in state.items())
