"""One training run per work dir: a second tools/train.py into a work dir a
live run holds stops naming the holder; a holder that is gone is taken
over; a holder on another host is named with the way to take over.

The lock is the kernel's (flock), so what a left-behind lock file says
does not decide: a live unrelated process under its pid, a pid of an
earlier container, damaged bytes, or eight starters at once on one left
file all end with one holder and no crash."""
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

import dhkd_det.apis.work_dir_lock as work_dir_lock
from cls_utils import REPO, python_tool, run_tool, small_project
from dhkd_det.apis.work_dir_lock import LOCK_NAME, acquire, release
from dhkd_det.checkpoint.atomic_file import partial_path

#: a process that takes the lock of argv[1] and holds it (loads the module
#: by its path: importing dhkd_det takes seconds); with argv[2] == 'fork' it
#: forks a child that outlives it
HOLDER = f'''
import importlib.util, os, sys, time
spec = importlib.util.spec_from_file_location(
    'work_dir_lock', {REPO!r} + '/dhkd_det/apis/work_dir_lock.py')
lock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lock)
lock.acquire(sys.argv[1])
if sys.argv[2:] == ['fork'] and os.fork() == 0:
    time.sleep(120)
    os._exit(0)
print('held', flush=True)
time.sleep(120)
'''

#: one of eight starters at once: waits for argv[2] to exist, then tries
STARTER = HOLDER.split('lock.acquire')[0] + '''
open(sys.argv[2] + '.ready.' + sys.argv[3], 'w').close()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.001)
try:
    path = lock.acquire(sys.argv[1])
except RuntimeError as err:
    print('IN USE', err, flush=True)
else:
    print('ACQUIRED', os.getpid(), flush=True)
    time.sleep(3)
    lock.release(path)
'''


def write_lock(wd, **holder):
    wd.mkdir(parents=True, exist_ok=True)
    record = dict(pid=1, host=socket.gethostname(),
                  started='2024-01-01 00:00:00', command='train.py')
    record.update(holder)
    (wd / LOCK_NAME).write_text(json.dumps(record))


def hold(wd, *args):
    """A process holding ``wd``'s lock (kill it when done)."""
    holder = subprocess.Popen([sys.executable, '-c', HOLDER, str(wd), *args],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == 'held\n'
    return holder


@pytest.fixture
def logged(monkeypatch):
    messages = []
    monkeypatch.setattr(work_dir_lock, 'print_log',
                        lambda msg, *args, **kwargs: messages.append(msg))
    return messages


def dead_pid():
    proc = subprocess.Popen(['true'])
    proc.wait()
    return proc.pid


@pytest.mark.slow
def test_second_run_stops_and_a_gone_holder_is_taken_over(tmp_path):
    cfg = small_project(tmp_path, extra='train_cfg = dict(max_epochs=1)\n')
    wd = tmp_path / 'wd'
    holder = hold(wd)
    try:
        proc = run_tool(python_tool('train.py', cfg, '--work-dir', str(wd)),
                        cwd=str(tmp_path))
        assert proc.returncode != 0
        assert f'pid {holder.pid} on host {socket.gethostname()}' in \
            proc.stderr, proc.stderr[-3000:]
        assert f'kill {holder.pid}' in proc.stderr
        assert not (wd / 'epoch_1.pth').exists()
    finally:
        holder.kill()  # SIGKILL: its lock file stays behind
        holder.wait()

    proc = run_tool(python_tool('train.py', cfg, '--work-dir', str(wd)),
                    cwd=str(tmp_path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert f'taking over the lock {wd / LOCK_NAME}' in out
    assert 'its process is gone' in out
    assert (wd / 'epoch_1.pth').is_file()
    assert not (wd / LOCK_NAME).exists()  # released at the end


def test_holder_on_another_host_is_named_with_the_fix(tmp_path):
    wd = tmp_path / 'wd'
    write_lock(wd, host='gpu-node-17', pid=4242)
    with pytest.raises(RuntimeError) as err:
        acquire(str(wd))
    message = str(err.value)
    assert 'pid 4242 on host gpu-node-17' in message
    assert f'delete {wd / LOCK_NAME}' in message


def test_earlier_run_of_a_requeued_slurm_job_is_taken_over(tmp_path,
                                                           monkeypatch):
    wd = tmp_path / 'wd'
    write_lock(wd, host='gpu-node-17', pid=4242, slurm_job_id='981')
    monkeypatch.setenv('SLURM_JOB_ID', '981')
    path = acquire(str(wd))
    assert json.loads((wd / LOCK_NAME).read_text())['pid'] == os.getpid()
    release(path)
    assert not (wd / LOCK_NAME).exists()


def test_temporary_files_are_unique_per_process(tmp_path):
    tmp = partial_path(str(tmp_path / 'epoch_3.pth'))
    assert f'.{socket.gethostname()}.{os.getpid()}.' in tmp
    assert os.path.basename(tmp).startswith('.epoch_3.pth.')


def test_live_unrelated_process_under_the_pid_does_not_block(tmp_path,
                                                               logged):
    """A left-behind lock file naming the pid of a live process that is not
    a training run (the pid was reused): the lock is free, so it is taken
    over, not "kill <pid>"."""
    wd = tmp_path / 'wd'
    sleeper = subprocess.Popen(['sleep', '60'])
    try:
        write_lock(wd, pid=sleeper.pid)
        path = acquire(str(wd))
    finally:
        sleeper.kill()
        sleeper.wait()
    assert json.loads((wd / LOCK_NAME).read_text())['pid'] == os.getpid()
    assert any(f'pid {sleeper.pid}' in m and 'its process is gone' in m
               for m in logged), logged
    release(path)
    assert not (wd / LOCK_NAME).exists()


def test_lock_of_a_restarted_container_does_not_refuse_itself(tmp_path,
                                                              logged):
    """After a container restart (same host name, a new pid namespace) the
    lock file of the run before names pid 1, which runs again."""
    wd = tmp_path / 'wd'
    write_lock(wd, pid=1)
    release(acquire(str(wd)))
    assert any('pid 1 on host' in m for m in logged), logged


@pytest.mark.parametrize('data', [b'\xff\xfe\x00{"pid": 1', b'[1, 2]',
                                  b'{"pid": 12'])
def test_damaged_lock_file_is_taken_over_without_a_crash(tmp_path, logged,
                                                         data):
    wd = tmp_path / 'wd'
    wd.mkdir()
    (wd / LOCK_NAME).write_bytes(data)
    path = acquire(str(wd))
    assert any('its lock file is damaged' in m for m in logged), logged
    release(path)


def test_live_holder_blocks_until_it_is_killed(tmp_path, logged):
    """The kernel drops the lock of a killed holder, even while a child it
    forked (a data-loader worker) still runs."""
    wd = tmp_path / 'wd'
    holder = hold(wd, 'fork')
    try:
        with pytest.raises(RuntimeError) as err:
            acquire(str(wd))
        message = str(err.value)
        assert f'pid {holder.pid} on host {socket.gethostname()}' in message
        assert f'kill {holder.pid}' in message
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    path = acquire(str(wd))  # its forked child still sleeps
    assert any(f'pid {holder.pid}' in m and 'its process is gone' in m
               for m in logged), logged
    release(path)


def test_eight_starters_on_a_left_lock_end_with_one_holder(tmp_path):
    wd = tmp_path / 'wd'
    write_lock(wd, pid=dead_pid())
    go = tmp_path / 'go'
    starters = [subprocess.Popen(
        [sys.executable, '-c', STARTER, str(wd), str(go), str(i)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(8)]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob('go.ready.*'))) < 8:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    go.touch()
    results = [p.communicate(timeout=120) for p in starters]
    assert [p.returncode for p in starters] == [0] * 8, [
        err[-2000:] for _, err in results]
    # the last line: ACQUIRED or IN USE (a winner logs its take-over first)
    outs = [out.strip().splitlines()[-1] for out, _ in results]
    winners = [o for o in outs if o.startswith('ACQUIRED')]
    assert len(winners) == 1, outs
    winner = winners[0].split()[1]
    # the refused ones name the winner, not the left file's dead holder
    assert all(o.startswith('IN USE') and f'pid {winner} ' in o
               for o in outs if o not in winners), outs
    assert not (wd / LOCK_NAME).exists()


def test_file_system_without_flock_falls_back_to_the_file(tmp_path, logged,
                                                          monkeypatch):
    """Where flock is refused (Lustre without -o flock), the lock file
    alone decides: a holder it names, even on this host, is refused with
    the fix, since nothing tells whether it still runs."""
    def no_flock(fd, op):
        raise OSError(errno.ENOSYS, 'Function not implemented')

    monkeypatch.setattr(work_dir_lock.fcntl, 'flock', no_flock)
    wd = tmp_path / 'wd'
    path = acquire(str(wd))
    assert any('does not support flock' in m for m in logged)
    assert json.loads((wd / LOCK_NAME).read_text())['pid'] == os.getpid()
    release(path)
    assert not (wd / LOCK_NAME).exists()
    write_lock(wd, pid=dead_pid())
    with pytest.raises(RuntimeError, match=f'delete the file'):
        acquire(str(wd))
    assert (wd / LOCK_NAME).exists()
