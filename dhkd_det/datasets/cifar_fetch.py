"""The official CIFAR-100 release fetched into a data root when it is
missing, as the authors' code and mdistiller do, so that the quick start
runs on a fresh machine; a machine without internet access is told which
archive to place where."""
import os
import os.path as osp
import tempfile

from mmengine.logging import print_log
from torchvision.datasets import CIFAR100 as _TorchvisionCIFAR100
from torchvision.datasets.utils import (calculate_md5, check_integrity,
                                        extract_archive)

from ..utils.download import download_to, unreachable

FOLDER = _TorchvisionCIFAR100.base_folder
FILES = ('train', 'test', _TorchvisionCIFAR100.meta['filename'])
ARCHIVE = _TorchvisionCIFAR100.filename
ARCHIVE_URL = _TorchvisionCIFAR100.url
ARCHIVE_MD5 = _TorchvisionCIFAR100.tgz_md5


def fetch_cifar100(data_root: str) -> None:
    """Writes the files of ``data_root/cifar-100-python/`` that are missing,
    from the official archive: ``data_root/cifar-100-python.tar.gz`` when it
    is there with the official md5 (placed by hand on an offline machine, or
    kept from an earlier download), else downloaded to that path first.
    Files already there are kept.

    Several processes may fetch at once (the ranks of a DDP run build their
    data sets together): the archive and every extracted file appear by an
    atomic rename, so none reads a half-written file.  A failed download
    leaves no folder behind that it created."""
    created = _missing_folders(data_root)
    os.makedirs(data_root, exist_ok=True)
    archive = osp.join(data_root, ARCHIVE)
    if not check_integrity(archive, ARCHIVE_MD5):
        try:
            _download_archive(archive)
        except BaseException:
            for folder in created:  # the deepest first, each if empty
                try:
                    os.rmdir(folder)
                except OSError:
                    break
            raise
    folder = osp.join(data_root, FOLDER)
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_root,
                                     prefix='.extracting-') as scratch:
        extract_archive(archive, scratch)
        for name in FILES:
            if not osp.isfile(osp.join(folder, name)):
                os.replace(osp.join(scratch, FOLDER, name),
                           osp.join(folder, name))


def _missing_folders(path: str) -> list:
    """The folders ``os.makedirs(path)`` would create, deepest first."""
    missing = []
    path = osp.abspath(path)
    while not osp.exists(path):
        missing.append(path)
        path = osp.dirname(path)
    return missing


def _download_archive(archive: str) -> None:
    data_root = osp.abspath(osp.dirname(archive))
    placed = (f' ({archive} is there but has md5 {calculate_md5(archive)}: '
              'an interrupted download or another file; replace it)'
              if osp.isfile(archive) else '')
    print_log(f'CIFAR-100 is not in {osp.join(data_root, FOLDER)}: '
              f'downloading {ARCHIVE_URL} (169 MB)', 'current')
    partial = f'{archive}.part{os.getpid()}'
    try:
        _download(ARCHIVE_URL, partial)
        md5 = calculate_md5(partial)
        if md5 != ARCHIVE_MD5:
            raise ValueError(f'the downloaded file has md5 {md5}')
        os.replace(partial, archive)
    # urllib, ssl, http.client and torchvision fail in many types; each
    # means the same to the user: the archive has to come another way
    except Exception as err:
        raise RuntimeError(
            f'CIFAR-100 is not in {osp.join(data_root, FOLDER)} and '
            f'downloading it from {ARCHIVE_URL} failed '
            f'({type(err).__name__}: {err}){placed}. Without internet '
            f'access, download {ARCHIVE} (md5 {ARCHIVE_MD5}) on another '
            f'machine and place it in {data_root}/: the next run checks '
            'and extracts it. Or point data_root at a folder that holds '
            f'{FOLDER}/{{train,test,meta}}.') from err
    finally:
        if osp.exists(partial):
            os.remove(partial)


def _download(url: str, path: str) -> None:
    """The network step alone, with ``utils.download``'s timeout (tests
    replace it)."""
    download_to(url, path)


def archive_unreachable() -> str:
    """'' when the official archive's address answers (the pre-flight's
    short look), else why not (tests replace it)."""
    return unreachable(ARCHIVE_URL) or ''
