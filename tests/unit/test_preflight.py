"""The pre-flight: every missing or unreachable input of a run (data roots,
annotation files of data sets and evaluators, pretrained weights, the
teacher's checkpoint and class count) in one report, each with its key and
fix, before anything is built; a sweep's cells checked together.  Remote
addresses are local stand-ins: a stalled server and a refused port."""
import os
import os.path as osp
import sys
from types import SimpleNamespace

import pytest
from mmengine.config import Config

from cls_utils import REPO
from dhkd_det.apis.config import check_launcher
from dhkd_det.apis.failed_start import MAX_LINES, note_work_dir, run_tool
from dhkd_det.apis.test_outputs import check_metrics, check_out_path
from dhkd_det.checks import PreflightFailed, check_preflight, preflight
from dhkd_det.datasets import cifar_fetch
from dhkd_det.experiments.sweep import load_sweep
from dhkd_det.experiments.sweep_preflight import (SweepPreflightFailed,
                                                  check_cells)
from url_servers import refused_url, stalled_server

#: the module (``dhkd_det.checks.preflight`` is its function)
preflight_module = sys.modules['dhkd_det.checks.preflight']
CLS = osp.join(REPO, 'configs', 'dhkd', 'cifar100_res32x4_res8x4.py')
TRAIN = ('train_dataloader', 'val_dataloader')
DET_CFG = osp.join(REPO, 'configs', 'dhkd', 'coco_faster_rcnn_r101_r50.py')


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No answer is remembered between tests; CIFAR-100's address is
    unreachable as on a machine without network; a private URL cache."""
    monkeypatch.setattr(preflight_module, '_probed', {})
    monkeypatch.setattr(cifar_fetch, 'archive_unreachable',
                        lambda: 'no network in the tests')
    monkeypatch.setenv('DHKD_CACHE_DIR', str(tmp_path / 'url_cache'))
    monkeypatch.setenv('DHKD_PROBE_TIMEOUT', '0.5')


def keys(problems):
    return [p.key for p in problems]


def test_every_missing_input_of_a_run_at_once(tmp_path):
    cfg = Config.fromfile(CLS)
    nowhere = str(tmp_path / 'nowhere')
    for loader in TRAIN:
        cfg[loader].dataset.data_root = nowhere
    cfg.model.teacher_ckpt = str(tmp_path / 'teacher.pth')
    cfg.model.teacher.num_classes = 10  # the student predicts 100
    with stalled_server() as url:
        cfg.model.student.network.init_cfg = dict(
            type='Pretrained', checkpoint=f'{url}/resnet8x4.pth')
        problems = preflight(cfg, TRAIN)
        assert keys(problems) == [
            'train_dataloader.dataset.data_root',
            'val_dataloader.dataset.data_root',
            'model.student.network.init_cfg.checkpoint',
            'model.teacher_ckpt', 'model.teacher.num_classes']
        with pytest.raises(PreflightFailed) as info:
            check_preflight(cfg, TRAIN, subject='cfg.py')
    report = str(info.value)
    assert report.startswith('pre-flight of cfg.py: 5 problems; nothing was '
                             'built or started.')
    assert len(report.splitlines()) <= MAX_LINES
    assert f'CIFAR-100 is not in {nowhere}/cifar-100-python and its ' \
        f'download address {cifar_fetch.ARCHIVE_URL} cannot be reached ' \
        '(no network in the tests)' in report
    assert f'place cifar-100-python.tar.gz (md5 {cifar_fetch.ARCHIVE_MD5}' \
        in report
    assert f'{url}/resnet8x4.pth is not cached and cannot be downloaded ' \
        '(the server sent nothing for 0.5 s (stalled))' in report
    assert 'set model.student.network.init_cfg.checkpoint to the local ' \
        'file' in report
    assert f'teacher checkpoint {tmp_path}/teacher.pth does not exist' \
        in report
    assert 'the teacher predicts 10 classes and the student 100 ' \
        '(model.student.network.num_classes)' in report
    assert not osp.exists(nowhere)  # nothing created


def test_a_test_run_needs_no_teacher(tmp_path):
    cfg = Config.fromfile(CLS)
    cfg.test_dataloader.dataset.data_root = str(tmp_path / 'nowhere')
    cfg.model.teacher_ckpt = str(tmp_path / 'teacher.pth')
    assert keys(preflight(cfg, ('test_dataloader', ))) == [
        'test_dataloader.dataset.data_root']


def test_detection_files_and_teacher_url(tmp_path):
    pytest.importorskip('mmdet')
    from det_utils import small_data_cfg, write_config, write_tiny_coco
    data = str(tmp_path / 'data')
    write_tiny_coco(data, 'train', num_images=2, seed=0)
    val_json = write_tiny_coco(data, 'val', num_images=2, seed=1)
    teacher = refused_url() + '/teacher/latest.pth'
    cfg_path = write_config(
        str(tmp_path / 'det.py'),
        f'_base_ = {DET_CFG!r}\n'
        f'model = dict(teacher_ckpt={teacher!r})\n' + small_data_cfg(data))
    cfg = Config.fromfile(cfg_path)
    # only pretrained weights that are local: the student's are not read
    cfg.model.student.backbone.init_cfg = None
    os.remove(val_json)
    train_images = osp.join(data, cfg.train_dataloader.dataset.data_prefix
                            .img)
    os.rename(train_images, train_images.rstrip('/') + '_moved')
    problems = preflight(cfg, TRAIN)
    # (the tiny set's splits share one image folder)
    assert keys(problems) == ['train_dataloader.dataset.data_prefix.img',
                              'val_dataloader.dataset.ann_file',
                              'val_dataloader.dataset.data_prefix.img',
                              'val_evaluator.ann_file', 'model.teacher_ckpt']
    text = '\n'.join(line for p in problems for line in p.lines())
    assert f'annotation file {val_json} does not exist' in text
    assert '--cfg-options val_evaluator.ann_file=' in text
    assert f'teacher checkpoint {teacher} is not cached and cannot be ' \
        'downloaded (the connection was refused)' in text


def test_a_coco_file_without_categories_is_named(tmp_path):
    pytest.importorskip('mmdet')
    import json

    from det_utils import small_data_cfg, write_config, write_tiny_coco
    data = str(tmp_path / 'data')
    train_json = write_tiny_coco(data, 'train', num_images=2, seed=0)
    write_tiny_coco(data, 'val', num_images=2, seed=1)
    with open(train_json) as f:
        coco = json.load(f)
    del coco['categories']
    with open(train_json, 'w') as f:
        json.dump(coco, f)
    cfg = Config.fromfile(write_config(
        str(tmp_path / 'det.py'),
        f'_base_ = {DET_CFG!r}\n'
        'model = dict(teacher_ckpt=None)\n' + small_data_cfg(data)))
    cfg.model.student.backbone.init_cfg = None
    problems = preflight(cfg, TRAIN, teacher=False)
    assert len(problems) == 1
    assert f"annotation file '{train_json}' has no ['categories']: not a " \
        'COCO detection file' in problems[0].what
    assert 'a list of {"id": ..., "name": ...}' in problems[0].what


def test_a_sweep_checks_every_cell_before_any_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the smoke sweep's data and teacher: none
    sweep = load_sweep(osp.join(REPO, 'configs', 'sweeps',
                                'digits_smoke.py'))
    cells = sweep.cells()
    with pytest.raises(SweepPreflightFailed) as info:
        check_cells(sweep, cells, str(tmp_path / 'out'))
    err = info.value
    assert keys(err.problems) == ['train_dataloader.dataset.data_root',
                                  'val_dataloader.dataset.data_root',
                                  'model.teacher_ckpt']
    everyone = [c.id for c in cells]
    assert err.cells[err.problems[0]] == everyone
    # the CE student never reads its teacher
    assert err.cells[err.problems[2]] == [c.id for c in cells
                                          if c.method != 'ce']
    report = str(err)
    assert 'in 6 runs: digits/ce/seed_0, digits/ce/seed_1, ' \
        'digits/kd/seed_0, digits/kd/seed_1 and 2 more' in report
    assert 'in 4 runs: digits/kd/seed_0' in report
    assert len(report.splitlines()) <= MAX_LINES
    assert not (tmp_path / 'out').exists() and \
        not (tmp_path / 'data').exists()


def test_a_failed_start_is_short_and_keeps_the_traceback(tmp_path, capsys):
    def main():
        note_work_dir(str(tmp_path / 'wd'))
        raise ValueError('\n'.join(f'line {i}' for i in range(100)))

    with pytest.raises(SystemExit) as info:
        run_tool(main, 'train')
    assert info.value.code == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) <= MAX_LINES
    assert err[0] == 'ValueError: line 0'
    assert err[-2] == '... (62 more lines in the log)'
    assert err[-1].startswith('the full log, with the traceback: ')
    log = err[-1].split(': ', 1)[1]
    assert osp.dirname(log) == str(tmp_path / 'wd')
    text = open(log).read()
    assert 'Traceback (most recent call last)' in text and 'line 99' in text
    note_work_dir(None)


def test_launchers_without_their_environment_are_named(monkeypatch):
    for name in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError) as info:
        check_launcher('slurm')
    assert str(info.value).startswith(
        '--launcher slurm needs the environment srun gives each task '
        '(SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST not set)')
    check_launcher('none')


def test_an_empty_metric_is_an_error():
    class CocoMetric:
        prefix = 'coco'

    runner = SimpleNamespace(test_evaluator=SimpleNamespace(
        metrics=[CocoMetric()]))
    with pytest.raises(RuntimeError, match='the test metric is empty: '
                       r"CocoMetric \(prefix 'coco'\) returned no value"):
        check_metrics(runner, {})
    check_metrics(runner, {'coco/bbox_mAP': 0.1})
    with pytest.raises(ValueError, match='give a .pkl path'):
        check_out_path('metrics.json')


def _sweep(seeds):
    from dhkd_det.experiments.sweep import Sweep
    return Sweep('sweep.py', {'res32x4_res8x4': CLS}, ['ce'], list(seeds),
                 {})


def test_alike_failures_of_the_first_cells_stop_the_sweep(tmp_path):
    from dhkd_det.experiments.sweep import run_local
    from dhkd_det.experiments.sweep_preflight import SharedFailure
    launched = []

    def launch(config, options, work_dir, resume, env):
        launched.append(work_dir)
        return 1, (f'pre-flight of {work_dir}/ce.py: 1 problem\n'
                   'ValueError: the data is gone\n'
                   f'the full log, with the traceback: {work_dir}/'
                   'error_20261207_120000.log\n')

    with pytest.raises(SharedFailure) as info:
        run_local(_sweep(range(6)), str(tmp_path), _sweep(range(6)).cells(),
                  [None], launch, say=lambda line: None)
    # the cell the one slot took meanwhile may run; the others never start
    assert 3 <= len(launched) <= 4
    message = str(info.value)
    assert message.startswith('the first 3 cells to finish all failed '
                              'alike (res32x4_res8x4/ce/seed_0, ')
    assert 'pre-flight of <cell>/ce.py: 1 problem\nValueError: the data ' \
        'is gone\nFix it' in message


def test_failures_of_different_causes_do_not_stop_it(tmp_path):
    from dhkd_det.experiments.sweep import run_local
    launched = []

    def launch(config, options, work_dir, resume, env):
        launched.append(work_dir)
        return 1, f'RuntimeError: cell {len(launched)} broke\n'

    outcomes = run_local(_sweep(range(4)), str(tmp_path),
                         _sweep(range(4)).cells(), [None], launch,
                         say=lambda line: None)
    assert [o.status for o in outcomes] == ['failed'] * 4
    assert len(launched) == 4
