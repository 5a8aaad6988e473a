"""One training run per work dir: an OS lock (``flock``) on
``WORK_DIR/train.lock``, held open for the run's life.

Two runs writing into one work dir replace each other's checkpoints and log
into one file.  The kernel holds the lock for the holder and drops it when
the holder's process ends, however it ends (killed, out of memory, a
container stopped), so a lock file left behind is never taken for a live
run and a reused pid does not matter.  The file also names its holder
(pid, host, start time, the command and, under slurm, the job id), but only
for the messages: a second run stops with an error naming the run that
holds the lock, and a run that takes over a left-behind file says whose it
was.  Damaged contents are only reported.

Where the lock is not seen by every host: ``flock`` on a shared file system
holds between hosts only where the file system passes it to its server
(NFS with its lock service, Lustre mounted with ``flock``); some setups keep
it on the node (NFS mounted ``nolock`` or ``local_lock=flock``, Lustre
``localflock``, BeeGFS without global locks).  So a file left by a run on
*another* host is not taken over on the lock alone: the error names that
host and says to delete the file if that run has ended, unless it is an
earlier run of this same slurm job (requeued: slurm ends the old run before
it starts the new one).  Where ``flock`` is refused altogether (Lustre
without ``flock``: ENOSYS), the lock falls back to the file alone, created
with ``O_EXCL``: any holder it names, on any host, is refused with that
advice (a run killed with SIGKILL there leaves a file to delete).
"""
import errno
import fcntl
import json
import logging
import os
import os.path as osp
import socket
import sys
import time
from contextlib import contextmanager
from typing import Dict, Iterator, Optional

from mmengine.logging import print_log

#: the lock file, in the work dir
LOCK_NAME = 'train.lock'
#: flock's errors where the file system does not lock at all
_NO_FLOCK = (errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOLCK, errno.EINVAL)
#: how long a refused starter waits for the holder's record to be written
_RECORD_WAIT_S = 2.0

#: path -> the open descriptor holding its lock (None: file-only fallback)
_held: Dict[str, Optional[int]] = {}


def _close_in_forked_child() -> None:
    """A process forked by the holder (a data-loader worker) shares the
    descriptor, and with it the lock, which would outlive the holder while
    the child runs: the child closes its copy (closing, unlike unlocking,
    leaves the holder's lock in place)."""
    for fd in _held.values():
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
    _held.clear()


os.register_at_fork(after_in_child=_close_in_forked_child)


def _holder_record() -> dict:
    return dict(pid=os.getpid(), host=socket.gethostname(),
                started=time.strftime('%Y-%m-%d %H:%M:%S %z'),
                slurm_job_id=os.environ.get('SLURM_JOB_ID'),
                command=' '.join(sys.argv))


def _parse(data: bytes) -> Optional[dict]:
    """The holder a lock file names: None when it is empty, an empty dict
    when it is damaged (not UTF-8 JSON of an object)."""
    if not data.strip():
        return None
    try:
        record = json.loads(data.decode('utf-8'))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError
        return {}
    return record if isinstance(record, dict) else {}


def _read_fd(fd: int) -> Optional[dict]:
    return _parse(os.pread(fd, 1 << 16, 0))


def _read(path: str) -> Optional[dict]:
    try:
        return _read_existing(path)
    except FileNotFoundError:
        return None


def _describe(holder: dict) -> str:
    if not holder:
        return 'a run whose lock file is damaged (no holder can be read)'
    return (f'pid {holder.get("pid")} on host {holder.get("host")}, started '
            f'{holder.get("started")}'
            + (f', slurm job {holder["slurm_job_id"]}'
               if holder.get('slurm_job_id') else '')
            + f' ({holder.get("command")})')


def _same_file(fd: int, path: str) -> bool:
    """Whether ``path`` still is the file ``fd`` has open (a releasing
    holder removes it; a starter that opened it before must start over)."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    was = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (was.st_dev, was.st_ino)


def _flock(fd: int) -> Optional[bool]:
    """Try the lock: True when taken, False when another process holds it,
    None when the file system does not lock."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as err:
        if err.errno in _NO_FLOCK:
            return None
        raise
    return True


def _write(fd: int) -> None:
    data = json.dumps(_holder_record()).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    os.fsync(fd)


def _open(path: str) -> Optional[tuple]:
    """(fd, created) of the lock file, None when it vanished meanwhile."""
    try:
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL,
                           0o644), True
        except FileExistsError:
            pass
        try:
            return os.open(path, os.O_RDWR), False
        except FileNotFoundError:
            return None
    except PermissionError as err:
        raise PermissionError(
            f'cannot open the work dir lock {path} ({err.strerror}): give '
            'this run a --work-dir it may write to, or fix the permissions '
            'of that folder and file') from err


def _stale_reason(holder: Optional[dict]) -> Optional[str]:
    """Why a lock file no process locks here may be taken over ('' for an
    empty one: nothing to report), or None when the run it names may still
    run where this host's lock cannot see it (another host)."""
    if holder is None:
        return ''  # a starter that had not written it yet, or was killed
    if not holder:
        return 'its lock file is damaged'
    job = os.environ.get('SLURM_JOB_ID')
    if job and holder.get('slurm_job_id') == job:
        return f'it is an earlier run of this slurm job {job} (requeued)'
    if holder.get('host') == socket.gethostname():
        return 'its process is gone (no process holds the lock)'
    return None


def acquire(work_dir: str) -> str:
    """Take ``work_dir``'s lock for this process or raise naming the run
    that holds it; returns the lock file's path.  The lock is held until
    ``release`` (or until this process ends)."""
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, LOCK_NAME)
    for _ in range(20):  # each retry: the lock file was removed meanwhile
        opened = _open(path)
        if opened is None:
            continue
        fd, created = opened
        try:
            locked = _flock(fd)
        except BaseException:
            os.close(fd)
            raise
        if locked is None:
            return _acquire_file_only(path, fd, created)
        try:
            if not _same_file(fd, path):
                os.close(fd)
                fd = None
                continue  # its holder removed it on release: start over
            if not locked:
                raise RuntimeError(_held_message(path, _holder_of(fd)))
            holder = None if created else _read_fd(fd)
            reason = _stale_reason(holder)
            if reason is None:
                raise RuntimeError(_held_message(path, holder,
                                                 unlocked=True))
            _write(fd)  # first: a refused starter reads it for its message
        except BaseException:
            if fd is not None:
                os.close(fd)
            raise
        _held[path] = fd
        if reason:
            print_log(f'taking over the lock {path} of {_describe(holder)}'
                      f': {reason}', 'current', logging.WARNING)
        return path
    raise RuntimeError(f'could not take the lock {path}: other runs keep '
                       'taking and releasing it. Start one run per '
                       '--work-dir.')


def holder(work_dir: str) -> Optional[dict]:
    """The run that holds ``work_dir``'s lock now (its record: pid, host,
    start, command; an empty dict when damaged), or None when no process
    here holds it.  Only a look: the lock is not taken."""
    path = osp.join(work_dir, LOCK_NAME)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder_of(fd)
        except OSError as err:
            if err.errno in _NO_FLOCK:
                return None  # no lock to see: tools/train.py decides
            raise
        return None  # taken and dropped at once (closing drops it)
    finally:
        os.close(fd)


def _wait_record(read) -> Optional[dict]:
    """A holder's record, given a moment to be written (a starter writes
    it right after creating or locking the file): None when the file is
    gone, an empty dict when it stays empty or damaged."""
    deadline = time.monotonic() + _RECORD_WAIT_S
    time.sleep(0.05)  # a lock winner rewrites a left-behind record first
    while True:
        try:
            holder = read()
        except FileNotFoundError:
            return None
        if holder or time.monotonic() > deadline:
            return holder or {}
        time.sleep(0.05)


def _holder_of(fd: int) -> dict:
    return _wait_record(lambda: _read_fd(fd))


def _read_existing(path: str) -> dict:
    with open(path, 'rb') as f:
        return _parse(f.read(1 << 16))


def _acquire_file_only(path: str, fd: int, created: bool) -> str:
    """The lock where the file system refuses ``flock``: the file alone,
    created with ``O_EXCL``.  A holder it names is never taken for gone
    (there is no way to tell), except an earlier run of this slurm job and
    a file that stays empty or damaged."""
    print_log(f'the file system of {path} does not support flock: the '
              'work dir lock relies on the lock file alone (a run killed '
              'without cleaning up leaves it; delete it then)', 'current',
              logging.WARNING)
    job = os.environ.get('SLURM_JOB_ID')
    for _ in range(3):
        if created:
            try:
                _write(fd)
            finally:
                os.close(fd)
            _held[path] = None
            return path
        if fd is not None:
            os.close(fd)
        holder = _wait_record(lambda: _read_existing(path))
        if holder is not None:
            same_job = bool(job) and holder.get('slurm_job_id') == job
            if holder and not same_job:
                raise RuntimeError(_held_message(path, holder,
                                                 unlocked=True))
            print_log(f'taking over the lock {path} of {_describe(holder)}'
                      f': {_stale_reason(holder)}', 'current',
                      logging.WARNING)
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
        fd, created = _open(path) or (None, False)
    if fd is not None:
        os.close(fd)
    raise RuntimeError(f'could not take the lock {path}: other runs keep '
                       'taking it. Start one run per --work-dir.')


def _held_message(path: str, holder: dict, unlocked: bool = False) -> str:
    """``unlocked``: no process here holds the lock, but the run the file
    names may hold it where this host cannot see (another host, or a file
    system without ``flock``)."""
    here = socket.gethostname()
    message = (f'the work dir {osp.dirname(path)} is in use by another '
               f'training run: {_describe(holder)}. Two runs in one work dir '
               'overwrite each other\'s checkpoints and logs: give this run '
               'its own --work-dir, or wait for that run to end')
    if unlocked and holder.get('host') not in (None, here):
        message += (f'. That run is on host {holder.get("host")}, whose '
                    f'processes this host ({here}) cannot see: if it has '
                    f'ended (killed, node lost), delete {path} and start '
                    'this run again')
    elif unlocked:
        message += (f'. This file system keeps no lock ({path} is all '
                    'there is): if that run has ended, delete the file and '
                    'start this run again')
    elif holder.get('host') == here and holder.get('pid'):
        message += f' (or stop it: kill {holder.get("pid")})'
    return message + '.'


def release(path: str) -> None:
    """Remove the lock at ``path`` if this process holds it, then let the
    lock go (the file is removed while still locked, so no other run takes
    it in between)."""
    if path not in _held:
        return
    fd = _held.pop(path)
    if fd is None:  # the file-only fallback
        holder = _read(path)
        if holder and holder.get('pid') == os.getpid() and \
                holder.get('host') == socket.gethostname():
            os.remove(path)
        return
    try:
        if _same_file(fd, path):
            os.remove(path)
    finally:
        os.close(fd)


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


def held_here(work_dir: str) -> bool:
    """Whether this process holds ``work_dir``'s lock already (a tool took
    it before building a runner that would take it too)."""
    path = osp.realpath(osp.join(work_dir, LOCK_NAME))
    return any(osp.realpath(held) == path for held in _held)
