"""Writing a file so that a crash leaves either the old file or the new one,
never a truncated one: write a temporary file in the same folder, flush it to
disk, then rename it over the target (``os.replace`` is atomic on POSIX and
Windows within one file system)."""
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator

#: temporary files end with this; a run that was killed mid-write leaves one
#: behind, which the next save in that folder removes
PARTIAL_SUFFIX = '.partial'


def partial_path(path: str) -> str:
    """The temporary name ``path`` is written under: hidden, in the same
    folder (a rename across file systems would not be atomic)."""
    folder, name = osp.split(osp.abspath(path))
    return osp.join(folder, f'.{name}{PARTIAL_SUFFIX}')


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
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    # the rename itself is durable only once the folder's entry is on disk
    if os.name == 'posix':
        _fsync(osp.dirname(osp.abspath(path)))


def atomic_write_text(path: str, text: str) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, 'w') as f:
            f.write(text)
