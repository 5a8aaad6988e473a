"""A checkpoint written before the package was laid out by job (commit
96d1cc5, tests/data/README.md) still resumes, tests and exports with the
current code, through the real tools."""
import json
import shutil

import torch
from mmengine.registry import MODELS

import dhkd_det  # noqa: F401
from cls_utils import REPO, python_tool, run_tool, small_project

OLD = f'{REPO}/tests/data/dhkd_resnet8_ga_96d1cc5.pth'


def test_old_checkpoint_resumes(tmp_path):
    # the config the checkpoint was trained with, on data of the same shape
    cfg = small_project(tmp_path)
    wd = tmp_path / 'wd'
    wd.mkdir()
    shutil.copy(OLD, wd / 'epoch_1.pth')
    proc = run_tool(python_tool('train.py', cfg, '--work-dir', str(wd),
                                '--resume', str(wd / 'epoch_1.pth'),
                                '--cfg-options', 'train_cfg.max_epochs=2'),
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'resumed epoch: 1, iter: 2' in proc.stdout + proc.stderr
    resumed = torch.load(wd / 'epoch_2.pth')
    assert (resumed['meta']['epoch'], resumed['meta']['iter']) == (2, 4)


def test_old_checkpoint_tests_and_exports(tmp_path):
    cfg = small_project(tmp_path)
    out = tmp_path / 'metrics.json'
    proc = run_tool(python_tool('test.py', cfg, OLD, '--work-dir',
                                str(tmp_path / 'twd'), '--out', str(out)),
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {'top1', 'aux/top1'} <= set(json.loads(out.read_text()))

    student = tmp_path / 'student.pth'
    proc = run_tool(python_tool('export_student.py', OLD, str(student)),
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = torch.load(student)['state_dict']
    plain = MODELS.build(dict(type='resnet8', num_classes=10))
    plain.load_state_dict(state, strict=True)
    old = torch.load(OLD)['state_dict']
    assert all(torch.equal(v, old[f'student.network.{k}'])
               for k, v in state.items())
