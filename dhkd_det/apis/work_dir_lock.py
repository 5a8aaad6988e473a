"""One training run per work dir: a lock file created with ``O_EXCL``.

Two runs writing into one work dir replace each other's checkpoints and log
into one file.  The lock file is created atomically (``O_CREAT | O_EXCL``,
which NFS v3+ and the cluster file systems honour too) and names its holder:
pid, host, start time, the command and, under slurm, the job id.  A second
run stops with an error naming the holder.  A holder that is gone is taken
over with a message: on this host when its pid no longer runs, on any host
when it is an earlier run of this same slurm job (a requeued job runs again
under its job id, and slurm ends the old run before it starts the new one).
A holder on another host cannot be checked: the error says so and how to
take the lock over.
"""
import json
import logging
import os
import os.path as osp
import socket
import sys
import time
from contextlib import contextmanager
from typing import Iterator, Optional

from mmengine.logging import print_log

#: the lock file, in the work dir
LOCK_NAME = 'train.lock'


def _holder_record() -> dict:
    return dict(pid=os.getpid(), host=socket.gethostname(),
                started=time.strftime('%Y-%m-%d %H:%M:%S %z'),
                slurm_job_id=os.environ.get('SLURM_JOB_ID'),
                command=' '.join(sys.argv))


def _read(path: str) -> Optional[dict]:
    """The holder in ``path``; None when it vanished meanwhile; an empty
    record when it is unreadable (a holder killed while writing it)."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _pid_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # runs, under another user
        return True
    return True


def _describe(holder: dict) -> str:
    return (f'pid {holder.get("pid")} on host {holder.get("host")}, started '
            f'{holder.get("started")}'
            + (f', slurm job {holder["slurm_job_id"]}'
               if holder.get('slurm_job_id') else '')
            + f' ({holder.get("command")})')


def _stale_reason(holder: dict) -> Optional[str]:
    """Why ``holder`` is known to be gone, or None when it may still run."""
    if not holder:
        return 'its lock file is empty or damaged'
    job = os.environ.get('SLURM_JOB_ID')
    if job and holder.get('slurm_job_id') == job:
        return f'it is an earlier run of this slurm job {job} (requeued)'
    if holder.get('host') == socket.gethostname() and \
            not _pid_runs(int(holder.get('pid', -1))):
        return 'its process is gone'
    return None


def acquire(work_dir: str) -> str:
    """Take ``work_dir``'s lock for this process or raise naming the run
    that holds it; returns the lock file's path."""
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, LOCK_NAME)
    mine = _holder_record()
    for _ in range(3):  # a stale holder removed, then a race lost
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read(path)
            if holder is None:  # released meanwhile
                continue
            reason = _stale_reason(holder)
            if reason is None:
                raise RuntimeError(_held_message(path, holder))
            print_log(f'taking over the lock {path} of {_describe(holder)}: '
                      f'{reason}', 'current', logging.WARNING)
            # removed only if it still names that holder (another starter
            # may have taken it over a moment ago)
            if _read(path) == holder:
                os.remove(path)
            continue
        with os.fdopen(fd, 'w') as f:
            json.dump(mine, f)
            f.flush()
            os.fsync(f.fileno())
        return path
    raise RuntimeError(f'could not take the lock {path}: other runs keep '
                       'taking it. Start one run per --work-dir.')


def _held_message(path: str, holder: dict) -> str:
    here = socket.gethostname()
    message = (f'the work dir {osp.dirname(path)} is in use by another '
               f'training run: {_describe(holder)}. Two runs in one work dir '
               'overwrite each other\'s checkpoints and logs: give this run '
               'its own --work-dir, or wait for that run to end')
    if holder.get('host') != here:
        message += (f'. That run is on host {holder.get("host")}, whose '
                    f'processes this host ({here}) cannot see: if it has '
                    f'ended (killed, node lost), delete {path} and start '
                    'this run again')
    else:
        message += f' (or stop it: kill {holder.get("pid")})'
    return message + '.'


def release(path: str) -> None:
    """Remove the lock at ``path`` if this process still holds it."""
    holder = _read(path)
    if holder and holder.get('pid') == os.getpid() and \
            holder.get('host') == socket.gethostname():
        os.remove(path)


def _is_rank_zero() -> bool:
    # read before the process group exists: torchrun sets RANK, srun
    # SLURM_PROCID (one task of a job started without srun has neither)
    rank = os.environ.get('RANK', os.environ.get('SLURM_PROCID', '0'))
    return int(rank) == 0


@contextmanager
def work_dir_lock(work_dir: str) -> Iterator[None]:
    """Hold ``work_dir``'s lock for the block (on rank 0 only: the other
    ranks of a run share its work dir)."""
    if not _is_rank_zero():
        yield
        return
    path = acquire(work_dir)
    try:
        yield
    finally:
        release(path)
