"""Writing a file so that a crash leaves either the old file or the new one,
never a truncated one: write a temporary file in the same folder, flush it to
disk, then rename it over the target (``os.replace`` is atomic on POSIX and
Windows within one file system)."""
import errno
import os
import os.path as osp
import socket
from contextlib import contextmanager
from typing import Iterator

#: temporary files end with this; a run that was killed mid-write leaves one
#: behind, which the next save in that folder removes
PARTIAL_SUFFIX = '.partial'


def partial_path(path: str) -> str:
    """The temporary name ``path`` is written under: hidden, in the same
    folder (a rename across file systems would not be atomic), and unique to
    this process on this host, so that two writers of one file never write
    into each other's temporary file."""
    folder, name = osp.split(osp.abspath(path))
    return osp.join(folder, f'.{name}.{socket.gethostname()}.{os.getpid()}'
                    f'{PARTIAL_SUFFIX}')


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path to write ``path``'s new content to; on a clean
    exit it is flushed to disk and renamed to ``path``, on an error it is
    removed and ``path`` is left as it was."""
    tmp = partial_path(path)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException as err:
        if osp.exists(tmp):
            os.remove(tmp)
        if isinstance(err, OSError) and path not in str(err):
            raise _naming(err, path) from err
        raise
    # the rename itself is durable only once the folder's entry is on disk
    if os.name == 'posix':
        _fsync(osp.dirname(osp.abspath(path)))


def atomic_write_text(path: str, text: str) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, 'w') as f:
            f.write(text)


def _naming(err: OSError, path: str) -> OSError:
    """``err`` with the file being written and the fix: a full disk says
    only "[Errno 28] No space left on device"."""
    message = f'writing {path} failed: {err.strerror or err}'
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        message += (f'. {path} and the earlier files in its folder are '
                    'intact: free space there (e.g. delete old checkpoints, '
                    'lower max_keep_ckpts) or give another --work-dir, then '
                    'continue with --resume')
    return OSError(err.errno, message)
