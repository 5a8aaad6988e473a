"""One training run per work dir: a second tools/train.py into a work dir a
live run holds stops naming the holder; a holder that is gone is taken
over; a holder on another host is named with the way to take over."""
import json
import os
import socket
import subprocess
import sys

import pytest

from cls_utils import python_tool, run_tool, small_project
from dhkd_det.apis.work_dir_lock import LOCK_NAME, acquire, release
from dhkd_det.checkpoint.atomic_file import partial_path


def write_lock(wd, **holder):
    wd.mkdir(parents=True, exist_ok=True)
    record = dict(pid=1, host=socket.gethostname(),
                  started='2024-01-01 00:00:00', command='train.py')
    record.update(holder)
    (wd / LOCK_NAME).write_text(json.dumps(record))


@pytest.mark.slow
def test_second_run_stops_and_a_gone_holder_is_taken_over(tmp_path):
    cfg = small_project(tmp_path, extra='train_cfg = dict(max_epochs=1)\n')
    wd = tmp_path / 'wd'
    holder = subprocess.Popen([sys.executable, '-c',
                               'import time; time.sleep(120)'])
    try:
        write_lock(wd, pid=holder.pid, command='tools/train.py cfg.py')
        proc = run_tool(python_tool('train.py', cfg, '--work-dir', str(wd)),
                        cwd=str(tmp_path))
        assert proc.returncode != 0
        assert f'pid {holder.pid} on host {socket.gethostname()}' in \
            proc.stderr, proc.stderr[-3000:]
        assert f'kill {holder.pid}' in proc.stderr
        assert not (wd / 'epoch_1.pth').exists()
    finally:
        holder.kill()
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
