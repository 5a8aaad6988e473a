"""A damaged ``results.json`` (cut off, empty, ``{}``, not numbers) in a
sweep's cell is named with its file and cell, the cell counts as not
finished (a rerun resumes it from its checkpoint and writes it again), and
the table is still written for the other cells."""
import json
import os

import pytest

from dhkd_det.experiments.sweep import (Cell, Sweep, cell_dir, cell_state,
                                        read_results, run_local)
from dhkd_det.experiments.sweep_table import collect
from dhkd_det.utils.paths import REPO

PAIR = f'{REPO}/configs/dhkd/cifar100_res32x4_res8x4.py'
SWEEP = f'{REPO}/configs/sweeps/digits_smoke.py'
GOOD = json.dumps(dict(best_top1=73.0, last_top1=72.0, seconds=60.0))
DAMAGED = {
    'cut': GOOD[:len(GOOD) // 2],
    'empty': '',
    'braces': '{}',
    'text': json.dumps(dict(best_top1='n/a', last_top1=72.0, seconds=1.0)),
    'list': '[73.0, 72.0]',
}


def sweep(seeds):
    return Sweep(SWEEP, {'res32x4_res8x4': PAIR}, ['kd'], list(seeds), {})


def write(out, seed, text, checkpoint=False):
    work_dir = cell_dir(out, Cell('res32x4_res8x4', 'kd', seed))
    os.makedirs(work_dir, exist_ok=True)
    with open(os.path.join(work_dir, 'results.json'), 'w') as f:
        f.write(text)
    if checkpoint:
        with open(os.path.join(work_dir, 'last_checkpoint'), 'w') as f:
            f.write(os.path.join(work_dir, 'epoch_1.pth'))
    return work_dir


@pytest.mark.parametrize('kind', sorted(DAMAGED))
def test_damaged_results_are_named_and_not_finished(tmp_path, kind):
    work_dir = write(str(tmp_path), 0, DAMAGED[kind])
    path = os.path.join(work_dir, 'results.json')
    with pytest.raises(ValueError, match=f'{path}.*res32x4_res8x4/kd/seed_0'):
        read_results(path, 'res32x4_res8x4/kd/seed_0')
    assert cell_state(work_dir) == 'new'
    write(str(tmp_path), 0, DAMAGED[kind], checkpoint=True)
    assert cell_state(work_dir) == 'interrupted'


def test_collect_writes_the_table_and_names_the_damaged_cells(tmp_path):
    out = str(tmp_path)
    write(out, 0, GOOD)
    for seed, kind in enumerate(['cut', 'empty', 'braces'], 1):
        write(out, seed, DAMAGED[kind])
    table = collect(sweep(range(4)), out)
    row = table['stats'][0].markdown_row()
    assert row['seeds'] == '1/4' and row['best top-1'] == '73.00'
    markdown = (tmp_path / 'table.md').read_text()
    for seed in (1, 2, 3):
        cell = f'res32x4_res8x4/kd/seed_{seed}'
        path = os.path.join(out, cell, 'results.json')
        assert any(path in d and cell in d for d in table['damaged'])
        assert path in markdown
    assert len(table['damaged']) == 3
    assert (tmp_path / 'table.csv').is_file()


def test_rerun_resumes_a_cell_with_damaged_results(tmp_path):
    out = str(tmp_path)
    work_dir = write(out, 0, DAMAGED['cut'], checkpoint=True)
    calls = []

    def launch(config, options, wd, resume, env):
        calls.append((wd, resume))
        session = os.path.join(wd, '20260101_000000', 'vis_data')
        os.makedirs(session, exist_ok=True)
        with open(os.path.join(session, 'scalars.json'), 'w') as f:
            f.write(json.dumps(dict(step=1, top1=41.0)) + '\n')
        return 0, ''

    lines = []
    outcomes = run_local(sweep([0]), out, sweep([0]).cells(), [None],
                         launch, say=lines.append)
    assert calls == [(work_dir, True)]
    assert [o.status for o in outcomes] == ['done']
    text = '\n'.join(lines)
    assert os.path.join(work_dir, 'results.json') in text
    assert 'res32x4_res8x4/kd/seed_0' in text and 'resumed' in text
    assert read_results(os.path.join(work_dir, 'results.json'),
                        'x')['best_top1'] == 41.0
    assert cell_state(work_dir) == 'finished'


@pytest.mark.slow  # runs tools/reproduce.py
def test_collect_exits_non_zero_naming_the_damaged_cells(tmp_path):
    """``--collect`` over a damaged results.json writes the table of the
    other cells and exits non-zero naming each damaged file and cell,
    instead of exit 0 with the note below the table only."""
    import subprocess
    import sys
    out = str(tmp_path / 'out')
    sweep_file = tmp_path / 'sweep.py'
    sweep_file.write_text(f'pairs = dict(res32x4_res8x4={PAIR!r})\n'
                          "methods = ['kd']\nseeds = [0, 1, 2]\n")
    write(out, 0, GOOD)
    write(out, 1, DAMAGED['cut'])
    write(out, 2, DAMAGED['braces'])
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, 'tools', 'reproduce.py'),
         str(sweep_file), '--out', out, '--collect'],
        capture_output=True, text=True, cwd=str(tmp_path),
        env={**os.environ, 'PYTHONPATH': REPO, 'OMP_NUM_THREADS': '1'})
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert '2 cells have a damaged results.json' in proc.stderr
    for seed in (1, 2):
        cell = f'res32x4_res8x4/kd/seed_{seed}'
        assert f'{os.path.join(out, cell, "results.json")} (cell {cell})' \
            in proc.stderr
    assert '| res32x4_res8x4 | KD | 1/3 |' in proc.stdout
    assert os.path.isfile(os.path.join(out, 'table.md'))
