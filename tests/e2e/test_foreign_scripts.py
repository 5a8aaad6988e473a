"""Our configs under MMDetection's own tools/train.py (the script as the
mmdet package ships it, not ours): the config's ``runner_type =
'DHKDRunner'`` brings the pre-flight, the work dir's lock and the
always-on hooks (stop with a checkpoint on SIGTERM / SIGUSR1, exact
resume); a COCO file without ``categories`` and ``--launcher slurm``
outside slurm are named errors, not bare ``KeyError``s."""
import json
import os.path as osp
import sys

import pytest
import torch

pytest.importorskip('mmdet')

import mmdet  # noqa: E402

from cls_utils import run_tool, small_project  # noqa: E402
from dhkd_det.apis.work_dir_lock import acquire, release  # noqa: E402
from dhkd_det.engine.hooks.rng_state_hook import RNG_KEY  # noqa: E402

MMDET_TRAIN = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools',
                       'train.py')
MMDET_TEST = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools',
                      'test.py')

pytestmark = pytest.mark.skipif(not osp.isfile(MMDET_TRAIN),
                                reason='mmdet without its tools')


def mmdet_tool(script, *args, cwd):
    return run_tool([sys.executable, script, *map(str, args)], cwd=str(cwd))


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp('foreign')
    return root, small_project(root, extra='train_cfg = dict(max_epochs=1)')


def test_a_run_gets_the_always_on_hooks_and_resumes_exactly(project,
                                                            tmp_path):
    root, cfg = project
    proc = mmdet_tool(MMDET_TRAIN, cfg, '--work-dir', tmp_path / 'wd',
                      cwd=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    for hook in ('PreemptionHook', 'RngStateHook', 'ScheduleResumeHook'):
        assert hook in log, hook
    # RngStateHook's generator states, what exact resume restores
    ckpt = torch.load(tmp_path / 'wd' / 'epoch_1.pth')
    assert RNG_KEY in ckpt and 'sampler_seed' in ckpt[RNG_KEY]
    assert not (tmp_path / 'wd' / 'train.lock').exists()  # released
    # MMDetection's --resume (resume=True, no path): the newest complete
    # checkpoint of the work dir, checked, then resumed
    proc = mmdet_tool(MMDET_TRAIN, cfg, '--work-dir', tmp_path / 'wd',
                      '--resume', '--cfg-options', 'train_cfg.max_epochs=2',
                      cwd=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'resumed epoch: 1' in proc.stdout + proc.stderr
    assert (tmp_path / 'wd' / 'epoch_2.pth').is_file()


def test_the_work_dir_lock_holds_there_too(project, tmp_path):
    root, cfg = project
    held = acquire(str(tmp_path / 'wd'))
    try:
        proc = mmdet_tool(MMDET_TRAIN, cfg, '--work-dir', tmp_path / 'wd',
                          cwd=root)
    finally:
        release(held)
    assert proc.returncode != 0
    assert 'is in use by another training run' in proc.stderr, \
        proc.stderr[-3000:]
    assert not list((tmp_path / 'wd').glob('*.pth'))


def test_the_pre_flight_runs_there_too(project, tmp_path):
    root, cfg = project
    proc = mmdet_tool(MMDET_TRAIN, cfg, '--work-dir', tmp_path / 'wd',
                      '--cfg-options', f'model.teacher_ckpt={tmp_path}/t.pth',
                      f'train_dataloader.dataset.data_root={tmp_path}/none',
                      cwd=root)
    assert proc.returncode != 0
    assert 'pre-flight of ' in proc.stderr and '2 problems' in proc.stderr
    assert f'model.teacher_ckpt: teacher checkpoint {tmp_path}/t.pth does ' \
        'not exist' in proc.stderr, proc.stderr[-3000:]


def test_launcher_slurm_outside_slurm_is_named(project, tmp_path):
    root, cfg = project
    proc = mmdet_tool(MMDET_TRAIN, cfg, '--work-dir', tmp_path / 'wd',
                      '--launcher', 'slurm', cwd=root)
    assert proc.returncode != 0
    assert '--launcher slurm needs the environment srun gives each task' \
        in proc.stderr, proc.stderr[-3000:]
    assert "KeyError: 'SLURM_PROCID'" not in proc.stderr


def test_a_coco_file_without_categories_under_mmdetection_s_script(
        tmp_path):
    pytest.importorskip('mmcv.ops')
    from det_utils import (REPO, SMALL_FASTER_RCNN, small_data_cfg,
                           write_config, write_tiny_coco)
    det_cfg = osp.join(REPO, 'configs', 'dhkd', 'coco_faster_rcnn_r101_r50.py')
    data = osp.join(tmp_path, 'data')
    train_json = write_tiny_coco(data, 'train', num_images=2, seed=0)
    write_tiny_coco(data, 'val', num_images=2, seed=1)
    with open(train_json) as f:
        coco = json.load(f)
    del coco['categories']
    with open(train_json, 'w') as f:
        json.dump(coco, f)
    teacher_cfg = write_config(
        osp.join(tmp_path, 'teacher.py'),
        "_base_ = 'mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py'\n"
        f'model = {SMALL_FASTER_RCNN!r}\n')
    teacher_ckpt = osp.join(tmp_path, 'unused.pth')  # stops before it
    open(teacher_ckpt, 'wb').close()
    cfg = write_config(
        osp.join(tmp_path, 'distill.py'),
        f'_base_ = {det_cfg!r}\n'
        f'model = dict(student={SMALL_FASTER_RCNN!r}, '
        f'teacher={teacher_cfg!r}, teacher_ckpt={teacher_ckpt!r})\n' +
        small_data_cfg(data))
    proc = mmdet_tool(MMDET_TRAIN, cfg, '--work-dir', tmp_path / 'wd',
                      cwd=tmp_path)
    assert proc.returncode != 0
    assert "KeyError: 'categories'" not in proc.stderr
    assert f"annotation file '{train_json}' has no ['categories']: not a " \
        'COCO detection file' in proc.stderr, proc.stderr[-3000:]
