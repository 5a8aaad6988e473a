"""The curves and the results table on real work dirs: two short runs of
the real tools (DHKD and the KD baseline), each drawing its curves when it
ends, then overlaid and summarised by the tools in tools/analysis."""
import csv
import os.path as osp
import re

import pytest

from cls_utils import python_tool, run_tool, save_teacher, \
    write_override_config
from conftest import make_cifar

PNG = b'\x89PNG\r\n\x1a\n'


def check(proc):
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-4000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp('analysis')
    make_cifar(str(root / 'data'), num_classes=10, n_train=64, n_test=32)
    save_teacher(root / 'teacher.pth')
    work_dirs = []
    for name, config in (('dhkd', 'configs/dhkd/cifar100_res32x4_res8x4.py'),
                         ('kd', 'configs/kd/cifar100_res32x4_res8x4.py')):
        cfg = write_override_config(str(root / f'{name}.py'), config,
                                    str(root / 'data'))
        work_dir = root / name
        out = check(run_tool(python_tool(
            'train.py', cfg, '--work-dir', str(work_dir), '--cfg-options',
            f'model.teacher_ckpt={root / "teacher.pth"}'), cwd=str(root)))
        assert f'curves: {work_dir}/plots/' in out
        work_dirs.append(work_dir)
    return root, work_dirs


def test_each_run_draws_its_curves(runs):
    _, work_dirs = runs
    for work_dir in work_dirs:
        for name in ('losses', 'accuracy', 'learning_rate'):
            assert (work_dir / 'plots' / f'{name}.png').read_bytes()[:8] == \
                PNG
    assert (work_dirs[0] / 'plots' / 'distillation.png').is_file()


def test_plot_curves_overlays_runs(runs):
    root, work_dirs = runs
    out = check(run_tool(python_tool(
        'analysis/plot_curves.py', *map(str, work_dirs), '--out',
        str(root / 'both')), cwd=str(root)))
    written = out.split()
    assert str(root / 'both' / 'losses.png') in written
    assert str(root / 'both' / 'accuracy.png') in written
    assert (root / 'both' / 'losses.png').read_bytes()[:8] == PNG


def test_summarize_prints_one_row_per_run(runs):
    root, work_dirs = runs
    proc = run_tool(python_tool(
        'analysis/summarize.py', *map(str, work_dirs), str(root / 'data'),
        '--out', str(root / 'table.md'), '--csv', str(root / 'table.csv')),
        cwd=str(root))
    out = check(proc)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('|')]
    assert lines[0].startswith('| config | method | student | teacher | '
                               'seed | epochs | main best / last | '
                               'aux best / last')
    columns = [c.strip() for c in lines[0].strip('|').split('|')]
    for line, work_dir in zip(lines[2:], work_dirs):
        cells = dict(zip(columns, (c.strip() for c in
                                   line.strip('|').split('|'))))
        assert cells['work dir'] == str(work_dir)
        # measured, not the '0m 00s' every run used to get
        assert re.fullmatch(r'\d+m \d\ds', cells['wall time']), cells
        assert cells['wall time'] != '0m 00s'
    with open(root / 'table.csv', newline='') as f:
        rows = list(csv.DictReader(f))
    assert [r['work dir'] for r in rows] == [str(w) for w in work_dirs]
    for row in rows:  # one number a column
        assert 0 <= float(row['main best']) <= 100
        assert float(row['main last']) <= float(row['main best'])
        assert int(row['wall seconds']) > 0 and int(row['epochs']) == 2
    dhkd, kd = lines[2], lines[3]
    assert 'BinaryKLNormLoss on aux + GA' in dhkd and '| 2 |' in dhkd
    assert 'KDLoss on main' in kd and '| resnet8 | resnet8 |' in kd
    assert f"skipped: '{root / 'data'}'" in out  # not a work dir
    assert osp.isfile(root / 'table.md')
