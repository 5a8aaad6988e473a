"""Runs a script of tools/ (``python cifar_download_stub.py tools/train.py
ARGS``) with CIFAR-100's network step replaced, so that the command line's
download path is tested without downloading: with ``STUB_CIFAR_ARCHIVE``
set, the "download" copies that archive (taken as the official one) and
the pre-flight finds the address reachable, otherwise both fail as on a
machine without internet access."""
import os
import runpy
import shutil
import sys
from urllib.error import URLError

from torchvision.datasets.utils import calculate_md5

from dhkd_det.datasets import cifar_fetch

ARCHIVE = os.environ.get('STUB_CIFAR_ARCHIVE')


def download(url: str, path: str) -> None:
    if not ARCHIVE:
        raise URLError('no network in the tests')
    shutil.copyfile(ARCHIVE, path)


def archive_unreachable() -> str:
    return '' if ARCHIVE else 'no network in the tests'


cifar_fetch._download = download
cifar_fetch.archive_unreachable = archive_unreachable
if ARCHIVE:
    cifar_fetch.ARCHIVE_MD5 = calculate_md5(ARCHIVE)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
