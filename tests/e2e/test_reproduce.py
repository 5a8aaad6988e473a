"""tools/reproduce.py: the table's statistics and published differences
are right, runs are packed per GPU, the slurm job array holds the
unfinished cells, and on the CPU a sweep with a crashed cell is finished by
rerunning the same command without redoing finished cells."""
import json
import os
import stat
import sys
import threading

import pytest

import dhkd_det  # noqa: F401
from cls_utils import REPO, python_tool, run_tool, save_teacher
from dhkd_det.experiments.methods import METHODS
from dhkd_det.experiments.published import SOURCES, published
from dhkd_det.experiments.sweep import (Cell, Sweep, cell_dir, cell_state,
                                        cpu_run_threads,
                                        device_slots, load_sweep,
                                        parse_cell, run_local)
from dhkd_det.experiments.sweep_table import collect

PAIR = f'{REPO}/configs/dhkd/cifar100_res32x4_res8x4.py'
SMOKE = f'{REPO}/configs/sweeps/digits_smoke.py'
SMOKE_PAIR = f'{REPO}/configs/dhkd/cifar100_res56_res20.py'


# each method's override config, its losses per pair and the cells of the
# sweep files before and after the methods moved into their configs:
# tests/unit/test_methods.py (fast)


def test_published_numbers_name_their_source():
    assert published('res32x4_res8x4', 'dkd').top1 == 76.32
    assert published('res32x4_res8x4', 'dist').spread == 0.19
    assert published('res32x4_shufflev1', 'kd_ls') is None  # not in LS
    assert published('res32x4_res8x4', 'dhkd') is None
    from dhkd_det.experiments.published import PUBLISHED
    assert {p.source for p in PUBLISHED.values()} <= set(SOURCES)


def _sweep(methods, seeds, pairs=None):
    return Sweep(SMOKE, pairs or {'res32x4_res8x4': PAIR}, list(methods),
                 list(seeds), {})


def _write_results(out, cell, best, last, seconds=60.0):
    work_dir = cell_dir(out, cell)
    os.makedirs(work_dir, exist_ok=True)
    with open(os.path.join(work_dir, 'results.json'), 'w') as f:
        json.dump(dict(best_top1=best, last_top1=last, seconds=seconds), f)


def test_table_on_hand_made_numbers(tmp_path):
    out = str(tmp_path)
    sweep = _sweep(['kd', 'dhkd', 'dkd'], [0, 1, 2])
    _write_results(out, Cell('res32x4_res8x4', 'kd', 0), 73.0, 72.0, 120)
    _write_results(out, Cell('res32x4_res8x4', 'kd', 2), 74.0, 73.0, 240)
    _write_results(out, Cell('res32x4_res8x4', 'dhkd', 1), 76.5, 76.0)
    table = collect(sweep, out)
    rows = {s.method: s.markdown_row() for s in table['stats']}
    assert rows['kd']['seeds'] == '2/3'
    assert rows['kd']['best top-1'] == '73.50 ± 0.71'
    assert rows['kd']['last top-1'] == '72.50 ± 0.71'
    assert rows['kd']['published'] == '73.33'
    assert rows['kd']['Δ best'] == '+0.17'
    assert rows['kd']['source'] == 'mdistiller'
    assert rows['kd']['min / run'] == '3.0'
    assert rows['dhkd']['best top-1'] == '76.50'  # one seed: no spread
    assert 'published' not in rows['dhkd']  # none found: '-' in the table
    assert rows['dkd']['seeds'] == '0/3'
    markdown = (tmp_path / 'table.md').read_text()
    assert '| res32x4_res8x4 | DHKD | 1/3 | 76.50 | 76.00 | - | - | - |' \
        in markdown
    assert SOURCES['mdistiller'] in markdown
    csv_lines = (tmp_path / 'table.csv').read_text().splitlines()
    assert csv_lines[0].startswith('pair,method,seeds_finished,seeds,')
    assert csv_lines[1] == ('res32x4_res8x4,kd,2,3,73.5000,0.7071,72.5000,'
                            '0.7071,73.3300,,0.1700,mdistiller,3.0000')
    assert (tmp_path / 'spread.png').stat().st_size > 0


def _fake_run(work_dir, top1):
    """What a run leaves for the sweep to read: MMEngine's scalars."""
    session = os.path.join(work_dir, '20260101_000000', 'vis_data')
    os.makedirs(session, exist_ok=True)
    with open(os.path.join(session, 'scalars.json'), 'w') as f:
        f.write(json.dumps(dict(step=1, top1=top1)) + '\n')


def test_runs_packed_per_gpu(tmp_path):
    """With two (fake) GPUs and --per-gpu 2, four runs go at once, never
    more than two on one GPU, each told its GPU by CUDA_VISIBLE_DEVICES."""
    slots = device_slots(['3', '5'], per_gpu=2)
    assert slots == ['3', '5', '3', '5']
    assert device_slots([], per_gpu=4) == [None]  # CPU: one at a time
    with pytest.raises(ValueError, match='--per-gpu 0'):
        device_slots(['0'], 0)
    lock = threading.Lock()
    running = {'3': 0, '5': 0}
    peak = {'3': 0, '5': 0, 'all': 0}
    # each run waits until four are running (not for a time: writing a
    # cell's config can take longer than any sleep on a loaded machine);
    # a pool that ran fewer at once would break the barrier
    four = threading.Barrier(4, timeout=120)

    def launch(config, options, work_dir, resume, env):
        gpu = env['CUDA_VISIBLE_DEVICES']
        with lock:
            running[gpu] += 1
            peak[gpu] = max(peak[gpu], running[gpu])
            peak['all'] = max(peak['all'], sum(running.values()))
        four.wait()
        _fake_run(work_dir, 50.0)
        with lock:
            running[gpu] -= 1
        return 0, ''

    out = str(tmp_path)
    sweep = _sweep(['ce'], range(8))
    lines = []
    outcomes = run_local(sweep, out, sweep.cells(), slots, launch,
                         say=lines.append)
    assert [o.status for o in outcomes] == ['done'] * 8
    assert peak == {'3': 2, '5': 2, 'all': 4}
    assert lines[0].startswith(
        f'plan: 8 cells, 0 finished (skipped), 8 to run, 4 at a time; each '
        f'cell logs to {out}/<pair>/<method>/seed_<seed>/train_stdout.log')
    starts = [line for line in lines if line.startswith('start ')]
    assert len(starts) == 8 and all(' on GPU ' in line for line in starts)
    ends = [line for line in lines if line.startswith('[')]
    assert ends[-1].startswith('[8/8] res32x4_res8x4/ce/seed_')
    assert 'done 8, running 0, failed 0, left 0' in ends[-1]
    # an estimate once a run has been measured, while any is left
    assert 'to go' in ends[0] and 'to go' not in ends[-1]


def test_cpu_runs_side_by_side_share_the_cores(tmp_path):
    """--cpu-runs 2 on a machine without GPUs: two runs at once, each told
    its share of the cores by OMP_NUM_THREADS (unless the user set it)."""
    assert device_slots([], per_gpu=1, cpu_runs=2) == [None, None]
    with pytest.raises(ValueError, match='--cpu-runs 0'):
        device_slots([], 1, cpu_runs=0)
    with pytest.raises(ValueError, match='--cpu-runs 2 is for a machine '
                       'without GPUs, but GPUs 0 are visible: use --per-gpu'):
        device_slots(['0'], 1, cpu_runs=2)
    assert cpu_run_threads(2, environ={}, cores=2) == 1
    assert cpu_run_threads(3, environ={}, cores=16) == 5
    assert cpu_run_threads(4, environ={}, cores=2) == 1
    assert cpu_run_threads(1, environ={}, cores=16) is None
    assert cpu_run_threads(2, environ={'OMP_NUM_THREADS': '4'}) is None
    lock = threading.Lock()
    state = dict(running=0, peak=0, envs=[])
    two = threading.Barrier(2, timeout=120)  # fewer at once would break it

    def launch(config, options, work_dir, resume, env):
        with lock:
            state['running'] += 1
            state['peak'] = max(state['peak'], state['running'])
            state['envs'].append(env)
        two.wait()
        _fake_run(work_dir, 30.0)
        with lock:
            state['running'] -= 1
        return 0, ''

    sweep = _sweep(['ce'], range(4))
    lines = []
    outcomes = run_local(sweep, str(tmp_path), sweep.cells(), [None, None],
                         launch, lines.append, cpu_threads=1)
    assert [o.status for o in outcomes] == ['done'] * 4
    assert state['peak'] == 2
    assert state['envs'] == [{'OMP_NUM_THREADS': '1'}] * 4
    assert ', 2 at a time' in lines[0]


def test_failed_cell_reported_and_retried(tmp_path):
    out = str(tmp_path)
    sweep = _sweep(['ce'], [0, 1])
    calls = []

    def launch(config, options, work_dir, resume, env):
        calls.append(work_dir)
        if work_dir.endswith('seed_0') and len(calls) <= 2:
            return 1, 'Traceback ...\nRuntimeError: boom\n'
        _fake_run(work_dir, 40.0)
        return 0, ''

    lines = []
    outcomes = run_local(sweep, out, sweep.cells(), [None], launch,
                         lines.append)
    assert sorted(o.status for o in outcomes) == ['done', 'failed']
    failed = json.loads((tmp_path / 'res32x4_res8x4' / 'ce' / 'seed_0' /
                         'failed.json').read_text())
    assert failed['returncode'] == 1 and 'RuntimeError: boom' in \
        failed['tail']
    assert any('RuntimeError: boom' in line for line in lines)
    lines.clear()
    outcomes = run_local(sweep, out, sweep.cells(), [None], launch,
                         lines.append)
    assert lines[0].startswith('plan: 2 cells, 1 finished (skipped), 1 to '
                               'run, 1 at a time')
    assert sorted(o.status for o in outcomes) == ['done', 'skipped']
    assert len(calls) == 3  # the finished cell was not run again
    assert cell_state(cell_dir(out, Cell('res32x4_res8x4', 'ce', 0))) == \
        'finished'
    assert not (tmp_path / 'res32x4_res8x4' / 'ce' / 'seed_0' /
                'failed.json').exists()


def test_cells_and_sweep_files_checked(tmp_path):
    assert parse_cell('res56_res20/dkd/seed_2') == Cell('res56_res20', 'dkd',
                                                        2)
    with pytest.raises(ValueError, match='<pair>/<method>/seed_<seed>'):
        parse_cell('res56_res20/dkd')
    bad = tmp_path / 'bad.py'
    bad.write_text("pairs = ['res56_res20']\nmethods = ['kd', 'dkdd']\n"
                   'seeds = [0]\n')
    with pytest.raises(KeyError, match=r"unknown methods \['dkdd'\]"):
        load_sweep(str(bad))
    bad.write_text("pairs = ['res56_res2']\nmethods = ['kd']\nseeds = [0]\n")
    with pytest.raises(FileNotFoundError, match="pair 'res56_res2'"):
        load_sweep(str(bad))
    bad.write_text("pairs = ['res56_res20']\nmethods = ['kd']\n")
    with pytest.raises(KeyError, match='no seeds'):
        load_sweep(str(bad))
    paper = load_sweep(f'{REPO}/configs/sweeps/cifar100_paper.py')
    assert len(paper.pairs) == 10 and paper.seeds == [0, 1, 2]
    # the paper's methods; the study-only ones (dhkd_linear, dhkd_kd) are
    # in configs/sweeps/digit_pairs_study.py
    assert set(paper.methods) == set(METHODS) - {'dhkd_linear', 'dhkd_kd'}
    assert all(os.path.isfile(c) for c in paper.pairs.values())


def _fake_slurm(tmp_path):
    """A PATH whose sbatch records the script it is given and answers as
    slurm does, beside an srun (submitit looks for one)."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in (('sbatch', f'cp "$1" {tmp_path / "submitted.sh"}\n'
                                  'echo "Submitted batch job 4242"\n'),
                       ('srun', 'exit 0\n')):
        tool = bin_dir / name
        tool.write_text('#!/bin/sh\n' + text)
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return f'{bin_dir}{os.pathsep}{os.environ["PATH"]}'


def test_slurm_job_array(tmp_path):
    """One task per unfinished cell, submitted by submitit as one array with
    slurm's warning before the time limit (USR2, 180 s) and requeueing on;
    each task a pickled CellJob of its cell with the command line's
    options."""
    submitit = pytest.importorskip('submitit')
    from dhkd_det.datasets import digits_as_cifar
    from dhkd_det.experiments.slurm import CellJob
    # the inputs every cell needs: the pre-flight checks them before
    # anything is queued
    digits_as_cifar(str(tmp_path / 'data' / 'digits'), max_train=64)
    (tmp_path / 'checkpoints').mkdir()
    save_teacher(tmp_path / 'checkpoints' / 'digits_resnet8.pth')
    out = tmp_path / 'out'
    _write_results(str(out), Cell('digits', 'kd', 1), 50.0, 50.0)
    proc = run_tool(python_tool(
        'reproduce.py', SMOKE, '--out', str(out), '--launcher', 'slurm',
        '--partition', 'gpu', '--time', '1:00:00', '--max-parallel', '3',
        '--sbatch-arg=--qos=high', '--cfg-options',
        'train_cfg.max_epochs=3'), cwd=str(tmp_path),
        env_extra={'PATH': _fake_slurm(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'Submitted batch job 4242: 5 cells as one job array' in \
        proc.stdout
    lines = (tmp_path / 'submitted.sh').read_text().splitlines()
    for line in ('#SBATCH --array=0-4%3', '#SBATCH --gpus-per-node=1',
                 '#SBATCH --partition=gpu', '#SBATCH --time=60',
                 '#SBATCH --signal=USR2@180', '#SBATCH --requeue',
                 '#SBATCH --qos=high', '#SBATCH --ntasks-per-node=1'):
        assert line in lines
    assert f'export PYTHONPATH={REPO}${{PYTHONPATH:+:$PYTHONPATH}}' in lines
    tasks = [submitit.helpers.DelayedSubmission.load(p) for p in
             sorted((out / 'slurm').glob('4242_*/4242_*_submitted.pkl'))]
    assert sorted(t.args[0] for t in tasks) == [
        'digits/ce/seed_0', 'digits/ce/seed_1', 'digits/dhkd/seed_0',
        'digits/dhkd/seed_1', 'digits/kd/seed_0']
    for task in tasks:
        assert isinstance(task.function, CellJob)
        assert (task.function.out, task.function.cwd) == (str(out),
                                                          str(tmp_path))
        assert task.function.cli_options == {'train_cfg.max_epochs': 3}


def test_slurm_needs_submitit_and_a_time_limit(tmp_path, monkeypatch):
    from dhkd_det.experiments import slurm
    sweep = _sweep(['ce'], [0])
    with pytest.raises(ValueError, match='needs --time'):
        pytest.importorskip('submitit')
        slurm.submit_slurm(sweep, str(tmp_path), sweep.cells(), {}, '')
    monkeypatch.setitem(sys.modules, 'submitit', None)  # not installed
    with pytest.raises(RuntimeError, match=r'pip install submitit'):
        slurm.submit_slurm(sweep, str(tmp_path), sweep.cells(), {},
                           '1:00:00')
    assert [slurm.slurm_minutes(t) for t in (
        '90', '1:30', '4:00:00', '1-00:00:00', '2-3', '0:0:59')] == [
        90, 2, 240, 1440, 3060, 1]
    with pytest.raises(ValueError, match="--time '4h'"):
        slurm.slurm_minutes('4h')


CRASH_MODULE = '''\
"""Test-only: the run whose work dir ends with $SWEEP_CRASH_CELL dies
after its first epoch's checkpoint, as a preempted job would."""
import os

from mmengine.runner import EpochBasedTrainLoop

_run_epoch = EpochBasedTrainLoop.run_epoch


def _crashing_run_epoch(self):
    _run_epoch(self)
    cell = os.environ.get('SWEEP_CRASH_CELL')
    if cell and self.runner.work_dir.endswith(cell) and self._epoch == 1:
        raise RuntimeError('injected crash after epoch 1')


EpochBasedTrainLoop.run_epoch = _crashing_run_epoch
'''


@pytest.mark.slow
def test_digits_sweep_end_to_end(tmp_path):
    """The smoke sweep on the CPU: one cell crashes after its first epoch,
    the others finish; the same command again resumes that cell from its
    checkpoint, runs nothing else, and completes the table."""
    from dhkd_det.datasets import digits_as_cifar
    digits_as_cifar(str(tmp_path / 'data' / 'digits'), max_train=256)
    (tmp_path / 'checkpoints').mkdir()
    save_teacher(tmp_path / 'checkpoints' / 'digits_resnet8.pth')
    (tmp_path / 'inject').mkdir()
    (tmp_path / 'inject' / 'sweep_crash.py').write_text(CRASH_MODULE)
    # the smoke sweep, its pair importing the crash (custom_imports act when
    # a config file is read, so they cannot come through --cfg-options)
    pair = tmp_path / 'crashing_pair.py'
    pair.write_text(f"_base_ = {SMOKE_PAIR!r}\ncustom_imports = dict("
                    "imports=['dhkd_det', 'sweep_crash'], "
                    "allow_failed_imports=False)\n")
    sweep = tmp_path / 'sweep.py'
    sweep.write_text(f'_base_ = {SMOKE!r}\n'
                     f'pairs = dict(digits={str(pair)!r})\n')
    assert load_sweep(str(sweep)).cfg_options == \
        load_sweep(SMOKE).cfg_options
    out = tmp_path / 'out'
    command = python_tool('reproduce.py', str(sweep), '--out', str(out))
    env = {'PYTHONPATH': os.pathsep.join([str(tmp_path / 'inject'), REPO])}
    crashed = tmp_path / 'out' / 'digits' / 'kd' / 'seed_0'

    first = run_tool(command, cwd=str(tmp_path), timeout=900, env_extra={
        **env, 'SWEEP_CRASH_CELL': 'digits/kd/seed_0'})
    assert first.returncode != 0, first.stdout[-3000:]
    assert 'digits/kd/seed_0 failed' in first.stdout
    assert 'injected crash after epoch 1' in first.stdout  # the log tail
    assert '1 cells failed (digits/kd/seed_0)' in first.stderr
    assert (crashed / 'failed.json').is_file()
    assert (crashed / 'epoch_1.pth').is_file()
    assert '| digits | KD | 1/2 |' in (out / 'table.md').read_text()
    finished = {p: p.stat().st_mtime_ns
                for p in out.glob('*/*/*/results.json')}
    assert len(finished) == 5

    second = run_tool(command, cwd=str(tmp_path), timeout=900, env_extra=env)
    assert second.returncode == 0, second.stdout[-3000:] + \
        second.stderr[-3000:]
    assert 'plan: 6 cells, 5 finished (skipped), 1 to run, 1 at a time, ' \
        'about ' in second.stdout  # from the five runs measured
    assert 'start digits/kd/seed_0 (resumed): log ' in second.stdout
    assert '[1/1] digits/kd/seed_0 done (resumed)' in second.stdout
    assert {p: p.stat().st_mtime_ns for p in finished} == finished
    assert not (crashed / 'failed.json').exists()
    # resumed, not restarted: the new session validated epoch 2 only
    sessions = sorted(p for p in crashed.iterdir() if p.is_dir() and
                      p.name[0].isdigit())
    assert len(sessions) == 2
    steps = [json.loads(line).get('step') for line in
             (sessions[1] / 'vis_data' / 'scalars.json').read_text()
             .splitlines() if 'top1' in line]
    assert steps == [2]
    results = json.loads((crashed / 'results.json').read_text())
    assert results['epochs'] == 2
    table = (out / 'table.md').read_text()
    for method in ('CE student', 'KD', 'DHKD'):
        assert f'| digits | {method} | 2/2 |' in table
    assert (out / 'table.csv').is_file() and (out / 'spread.png').is_file()
    # every cell can be rerun by hand: its override config names the command
    override = (crashed / 'override' / 'kd.py').read_text()
    assert 'python -m dhkd_det.cli.train' in override.splitlines()[1]


def test_slurm_submission_checks_every_cell_first(tmp_path):
    """Nothing is queued when a cell's inputs are missing: the pre-flight
    names them (here the data and the teacher) before sbatch is called."""
    pytest.importorskip('submitit')
    proc = run_tool(python_tool(
        'reproduce.py', SMOKE, '--out', str(tmp_path / 'out'), '--launcher',
        'slurm', '--partition', 'gpu', '--time', '1:00:00'),
        cwd=str(tmp_path), env_extra={'PATH': _fake_slurm(tmp_path)})
    assert proc.returncode == 1
    assert 'data/digits' in proc.stderr and 'digits_resnet8.pth' in \
        proc.stderr
    assert not (tmp_path / 'submitted.sh').exists()
