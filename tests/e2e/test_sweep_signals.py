"""The sweep driver (tools/reproduce.py) under signals and beside another
driver, on the digits smoke sweep on the CPU, a run held still at its 2nd
iteration (tests/sweep_pause.py) while the test signals the driver:

- Ctrl-C (SIGINT to the driver's process group), SIGINT or SIGTERM to the
  driver alone: the running cell saves (its run gets SIGTERM, not the
  terminal's SIGINT), no other cell starts, the table is written, the
  driver exits 75 and no process of the sweep is left;
- SIGKILL to the driver: its run still stops and saves (the kernel tells
  it), and the rerun, started at once, resumes it and finishes the sweep;
- a second driver on the same --out is refused naming the first, and
  touches no cell;
- a slurm task (submitit's, run here with slurm's variables and a fake
  scontrol) warned before its time limit (SIGUSR2) has its run save,
  requeues itself, and the requeued task resumes the cell.
"""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from cls_utils import REPO, TESTS, python_tool, run_tool, save_teacher

SMOKE = f'{REPO}/configs/sweeps/digits_smoke.py'
SMOKE_PAIR = f'{REPO}/configs/dhkd/cifar100_res56_res20.py'
PAUSED_CELL = 'digits/ce/seed_0'
#: bounds on waits, so that a broken driver fails the test, not hangs it
DEADLINE_S = 180


@pytest.fixture
def sweep(tmp_path):
    """A two-cell sweep (CE, seeds 0 and 1) whose first cell pauses; returns
    (the reproduce.py command, its environment, the output folder)."""
    from dhkd_det.datasets import digits_as_cifar
    digits_as_cifar(str(tmp_path / 'data' / 'digits'), max_train=256)
    (tmp_path / 'checkpoints').mkdir()
    save_teacher(tmp_path / 'checkpoints' / 'digits_resnet8.pth')
    pair = tmp_path / 'pausing_pair.py'
    pair.write_text(f"_base_ = {SMOKE_PAIR!r}\ncustom_imports = dict("
                    "imports=['dhkd_det', 'sweep_pause'], "
                    "allow_failed_imports=False)\n")
    file = tmp_path / 'sweep.py'
    file.write_text(f'_base_ = {SMOKE!r}\npairs = dict(digits={str(pair)!r})'
                    "\nmethods = ['ce']\nseeds = [0, 1]\n")
    out = tmp_path / 'out'
    env = {'PYTHONPATH': os.pathsep.join([TESTS, REPO]),
           'SWEEP_PAUSE_CELL': PAUSED_CELL}
    yield python_tool('reproduce.py', str(file), '--out', str(out)), env, out
    for pid in _processes_under(tmp_path):  # a failed test's leftovers
        os.kill(pid, signal.SIGKILL)


def _processes_under(folder) -> list:
    """Pids of the live processes whose command line names ``folder``: the
    drivers and runs of this test (every one names its sweep or config)."""
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f'/proc/{entry}/cmdline', 'rb') as f:
                cmdline = f.read().decode(errors='replace')
            with open(f'/proc/{entry}/stat') as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if str(folder) + os.sep in cmdline and state != 'Z':
            pids.append(int(entry))
    return pids


def _start_driver(command, env, tmp_path, name='driver'):
    """The driver in its own session (its process group is the test's to
    signal); its output in files."""
    stdout = open(tmp_path / f'{name}.out', 'w')
    stderr = open(tmp_path / f'{name}.err', 'w')
    full_env = {**os.environ, 'OMP_NUM_THREADS': '1', **env}
    return subprocess.Popen(command, cwd=str(tmp_path), env=full_env,
                            stdout=stdout, stderr=stderr,
                            start_new_session=True)


def _wait_for(predicate, what, proc=None):
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f'the driver ended ({proc.returncode}) before '
                        f'{what}')
        if time.monotonic() > deadline:
            pytest.fail(f'no {what} within {DEADLINE_S} s')
        time.sleep(0.2)


def _paused(out):
    return (out / PAUSED_CELL / 'paused').exists()


@pytest.mark.parametrize('how', ['ctrl-c', 'sigint', 'sigterm'])
def test_driver_stops_cleanly(sweep, tmp_path, how):
    command, env, out = sweep
    driver = _start_driver(command, env, tmp_path)
    _wait_for(lambda: _paused(out), 'paused run', driver)
    log = (out / PAUSED_CELL / 'train_stdout.log').read_text()
    if how == 'ctrl-c':  # the terminal's SIGINT goes to the whole group
        os.killpg(driver.pid, signal.SIGINT)
    else:
        driver.send_signal(signal.SIGINT if how == 'sigint'
                           else signal.SIGTERM)
    try:
        rc = driver.wait(timeout=DEADLINE_S)
    except subprocess.TimeoutExpired:
        pytest.fail('the driver did not stop')
    stdout = (tmp_path / 'driver.out').read_text()
    assert rc == 75, stdout[-3000:] + (tmp_path / 'driver.err').read_text()
    assert 'stopping the sweep' in stdout
    assert f'stopped: 1 running cells saved ({PAUSED_CELL})' in stdout
    paused = out / PAUSED_CELL
    assert list(paused.glob('preempted_iter_*.pth')), \
        (paused / 'train_stdout.log').read_text()[-3000:]
    assert not (paused / 'failed.json').exists()
    assert not (out / 'digits' / 'ce' / 'seed_1').exists()  # not started
    assert '| digits | CE student | 0/2 |' in (out / 'table.md').read_text()
    assert _processes_under(tmp_path) == []  # every run reaped
    # the running cell's log was readable while it ran, at INFO
    assert 'Checkpoints will be saved to' in log, log[-2000:]


def test_killed_driver_leaves_no_run_and_a_rerun_resumes(sweep, tmp_path):
    command, env, out = sweep
    driver = _start_driver(command, env, tmp_path)
    _wait_for(lambda: _paused(out), 'paused run', driver)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    # the rerun at once, while the killed driver's run may still be saving
    rerun = run_tool(command, cwd=str(tmp_path), timeout=900,
                     env_extra=env)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert f'start {PAUSED_CELL} (resumed)' in rerun.stdout
    assert 'failed 0' in rerun.stdout.splitlines()[-1] or \
        'failed 0' in rerun.stdout
    table = (out / 'table.md').read_text()
    assert '| digits | CE student | 2/2 |' in table
    results = json.loads((out / PAUSED_CELL / 'results.json').read_text())
    assert results['epochs'] == 2
    assert _processes_under(tmp_path) == []


def test_a_second_driver_is_refused(sweep, tmp_path):
    command, env, out = sweep
    first = _start_driver(command, env, tmp_path)
    _wait_for(lambda: _paused(out), 'paused run', first)
    log = out / PAUSED_CELL / 'train_stdout.log'
    before = log.read_text()
    second = run_tool(command, cwd=str(tmp_path), timeout=DEADLINE_S,
                      env_extra=env)
    assert second.returncode not in (0, 75)
    assert f'is in use by another driver of a sweep: pid {first.pid}' in \
        second.stderr, second.stderr[-3000:]
    assert 'failed' not in second.stdout + second.stderr
    # it touched no cell: the first driver's run goes on alone
    assert log.read_text().startswith(before)
    assert not list(out.glob('*/*/*/failed.json'))
    assert not (out / 'digits' / 'ce' / 'seed_1').exists()
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=DEADLINE_S) == 75


def test_slurm_task_saves_and_requeues_on_the_time_limit_warning(
        sweep, tmp_path):
    pytest.importorskip('submitit')
    command, env, out = sweep
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in (('sbatch', 'echo "Submitted batch job 4242"'),
                       ('srun', 'exit 0'),
                       ('scontrol', f'echo "$@" >> {tmp_path / "scontrol"}')):
        (bin_dir / name).write_text(f'#!/bin/sh\n{text}\n')
        (bin_dir / name).chmod(0o755)
    env = {**env, 'PATH': f'{bin_dir}{os.pathsep}{os.environ["PATH"]}'}
    submitted = run_tool(command + ['--launcher', 'slurm', '--time',
                                    '1:00:00'],
                         cwd=str(tmp_path), env_extra=env)
    assert submitted.returncode == 0, submitted.stderr[-3000:]
    # task 0 of array 4242 (the paused cell) as slurm would start it
    task_env = {**env, 'SUBMITIT_EXECUTOR': 'slurm', 'SLURM_JOB_ID': '4243',
                'SLURM_ARRAY_JOB_ID': '4242', 'SLURM_ARRAY_TASK_ID': '0',
                'SLURM_PROCID': '0', 'SLURM_LOCALID': '0',
                'SLURM_NODEID': '0', 'SLURM_NTASKS': '1',
                'SLURM_JOB_NUM_NODES': '1', 'SLURM_JOB_NODELIST': 'node1'}
    task = [sys.executable, '-u', '-m', 'submitit.core._submit',
            str(out / 'slurm' / '%j')]
    first = _start_driver(task, task_env, tmp_path, name='task')
    _wait_for(lambda: _paused(out), 'paused run', first)
    first.send_signal(signal.SIGUSR2)  # slurm's warning, 180 s ahead
    try:
        first.wait(timeout=DEADLINE_S)
    except subprocess.TimeoutExpired:
        pytest.fail('the task did not stop')
    task_log = (tmp_path / 'task.out').read_text() + \
        (tmp_path / 'task.err').read_text()
    assert (tmp_path / 'scontrol').read_text().split() == [
        'requeue', '4242_0'], task_log[-3000:]
    paused = out / PAUSED_CELL
    assert list(paused.glob('preempted_iter_*.pth')), task_log[-3000:]
    assert not (paused / 'failed.json').exists()
    # the requeued task: the same command again, resumed where it saved
    again = run_tool(task, cwd=str(tmp_path), timeout=900,
                     env_extra=task_env)
    assert again.returncode == 0, again.stdout[-3000:] + \
        again.stderr[-3000:]
    assert f'start {PAUSED_CELL} (resumed)' in again.stdout + again.stderr
    results = json.loads((paused / 'results.json').read_text())
    assert results['epochs'] == 2
    assert _processes_under(tmp_path) == []
