"""The detection study (dhkd_det/experiments/det_study.py, through
tools/analysis/det_study.py) end to end on a tiny set: a teacher and two
student variants, one seed, one epoch; its table, and a rerun that skips
the finished cells and resumes an interrupted one."""
import json
import os
import os.path as osp
import sys

import pytest

pytest.importorskip('mmdet')
pytest.importorskip('mmcv.ops')
pytest.importorskip('sklearn')

from cls_utils import REPO, run_tool  # noqa: E402

pytestmark = pytest.mark.slow

VARIANTS = ('student_alone', 'dhkd_aux')


def study(work, *args):
    tool = osp.join(REPO, 'tools', 'analysis', 'det_study.py')
    return run_tool([sys.executable, tool, '--smoke', '--out-dir',
                     str(work), '--seeds', '0', '--variants', *VARIANTS,
                     *args], cwd=str(work))


@pytest.fixture(scope='module')
def smoke(tmp_path_factory):
    work = tmp_path_factory.mktemp('det_study')
    proc = study(work, '--cpu-runs', '2')  # the two students side by side
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-4000:]
    return work, proc.stdout


def test_the_study_trains_every_cell_and_writes_its_table(smoke):
    work, out = smoke
    for cell in ('teacher', 'student_alone/seed_0', 'dhkd_aux/seed_0'):
        with open(work / cell / 'results.json') as f:
            results = json.load(f)
        assert results['epochs'] == 1 and len(results['mAP']) == 1, cell
        assert 0 <= results['last_mAP'] <= results['last_mAP_50'] <= 1
        assert results['seconds'] > 0
        # CPU time is this process's children's: the teacher's alone, the
        # students' not told apart
        assert (results['cpu_seconds'] is None) == (cell != 'teacher'), cell
    # the students learnt from the teacher the study trained first
    with open(work / 'dhkd_aux' / 'seed_0' /
              'coco_faster_rcnn_r101_r50.py') as f:
        config = f.read()
    assert osp.join(str(work), 'teacher', 'epoch_1.pth') in config
    table = (work / 'det_study.md').read_text()
    for row in ('| teacher | 1/1 |', '| student_alone | 1/1 |',
                '| dhkd_aux | 1/1 |'):
        assert row in table and row in out, row
    assert 'Convergence of the student alone' in table
    header = (work / 'det_study.csv').read_text().splitlines()[0]
    assert header.startswith('variant,seeds,mAP last mean,mAP last std')
    assert 'cos backbone mean' in header
    assert osp.getsize(work / 'figures' / 'det_study.png') > 0
    # DHKD's two losses meet in the backbone, never in a classifier
    rows = {r['variant']: r for r in json.loads(
        (work / 'det_study.json').read_text())['rows']}
    assert rows['dhkd_aux']['cos main_head'] == '0.00'
    assert rows['dhkd_aux']['cos backbone'] != '-'
    assert 'cos main_head' not in rows['student_alone']


def test_a_rerun_skips_finished_cells_and_resumes_an_interrupted_one(
        smoke):
    work, _ = smoke
    finished = work / 'dhkd_aux' / 'seed_0' / 'results.json'
    stamp = os.stat(finished).st_mtime_ns
    # an interrupted cell: its checkpoint, no results
    os.remove(work / 'student_alone' / 'seed_0' / 'results.json')
    proc = study(work)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-4000:]
    assert 'student_alone seed 0: resumed' in proc.stdout
    assert 'dhkd_aux seed 0: bbox mAP' in proc.stdout
    assert 'dhkd_aux seed 0: training' not in proc.stdout
    assert 'teacher (ResNet-18 width 16): training' not in proc.stdout
    assert os.stat(finished).st_mtime_ns == stamp
    assert (work / 'student_alone' / 'seed_0' / 'results.json').is_file()


def test_cpu_runs_are_for_a_machine_without_gpus(smoke):
    work, _ = smoke
    proc = run_tool([sys.executable, osp.join(REPO, 'tools', 'analysis',
                                              'det_study.py'),
                     '--smoke', '--out-dir', str(work), '--cpu-runs', '2'],
                    cwd=str(work), env_extra={'CUDA_VISIBLE_DEVICES': '0'})
    assert proc.returncode != 0
    assert 'det_study: --cpu-runs 2 is for a machine without GPUs, but ' \
        'GPUs 0 are visible' in proc.stderr, proc.stderr[-3000:]


def test_a_study_folder_refuses_other_settings(smoke):
    work, _ = smoke
    proc = study(work, '--num-train', '9')
    assert proc.returncode != 0
    assert 'made with other settings (num_train=8)' in proc.stderr
    assert 'give another --out-dir' in proc.stderr
