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
                                        download_url, extract_archive)

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
    atomic rename, so none reads a half-written file."""
    os.makedirs(data_root, exist_ok=True)
    archive = osp.join(data_root, ARCHIVE)
    if not check_integrity(archive, ARCHIVE_MD5):
        _download_archive(archive)
    folder = osp.join(data_root, FOLDER)
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_root,
                                     prefix='.extracting-') as scratch:
        extract_archive(archive, scratch)
        for name in FILES:
            if not osp.isfile(osp.join(folder, name)):
                os.replace(osp.join(scratch, FOLDER, name),
                           osp.join(folder, name))


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
    """The network step alone (tests replace it)."""
    download_url(url, osp.dirname(path), osp.basename(path))
