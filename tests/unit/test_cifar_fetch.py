"""CIFAR-100 fetched when it is missing (the quick start on a fresh machine),
from a tiny archive in the official layout: the network step is replaced,
tests never download."""
import os
import os.path as osp
import shutil
from urllib.error import URLError

import pytest
from mmengine.config import Config

from conftest import make_cifar
from dhkd_det.checks import check_data_roots
from dhkd_det.datasets import CIFAR100, cifar_fetch
from dhkd_det.testing import write_cifar_archive

OFFICIAL_ARCHIVE_MD5 = cifar_fetch.ARCHIVE_MD5


@pytest.fixture
def archive(tmp_path, monkeypatch):
    """A tiny archive standing in for the official one (its md5 the one
    expected)."""
    path = str(tmp_path / 'source' / 'cifar-100-python.tar.gz')
    os.makedirs(osp.dirname(path))
    monkeypatch.setattr(cifar_fetch, 'ARCHIVE_MD5', write_cifar_archive(path))
    return path


def offline(url, path):
    raise URLError('no network in the tests')


def test_missing_cifar_is_downloaded(tmp_path, archive, monkeypatch):
    fetched = []

    def download(url, path):
        fetched.append(url)
        shutil.copyfile(archive, path)
    monkeypatch.setattr(cifar_fetch, '_download', download)
    root = str(tmp_path / 'fresh' / 'cifar100')  # not there yet
    assert len(CIFAR100(root, 'train', check_md5=False)) == 12
    assert fetched == [cifar_fetch.ARCHIVE_URL]
    assert sorted(os.listdir(root)) == ['cifar-100-python',
                                        'cifar-100-python.tar.gz']
    # the other split is there now: no second download
    monkeypatch.setattr(cifar_fetch, '_download', offline)
    assert len(CIFAR100(root, 'test', check_md5=False)) == 6


def test_placed_archive_is_extracted_offline(tmp_path, archive,
                                             monkeypatch):
    monkeypatch.setattr(cifar_fetch, '_download', offline)
    root = tmp_path / 'data'
    root.mkdir()
    shutil.copy(archive, root)
    assert len(CIFAR100(str(root), 'test', check_md5=False)) == 6


def test_files_already_there_are_kept(tmp_path, archive, monkeypatch):
    monkeypatch.setattr(cifar_fetch, '_download', offline)
    root = tmp_path / 'data'
    make_cifar(root, num_classes=10, n_train=20, n_test=10)
    os.remove(root / 'cifar-100-python' / 'test')
    shutil.copy(archive, root)
    assert len(CIFAR100(str(root), 'train', check_md5=False)) == 20
    assert len(CIFAR100(str(root), 'test', check_md5=False)) == 6


def test_offline_error_names_the_archive_to_place(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar_fetch, '_download', offline)
    root = tmp_path / 'data'
    with pytest.raises(RuntimeError) as info:
        CIFAR100(str(root), 'train')
    message = str(info.value)
    assert f'CIFAR-100 is not in {root}/cifar-100-python and downloading ' \
        f'it from {cifar_fetch.ARCHIVE_URL} failed (URLError: <urlopen ' \
        'error no network in the tests>)' in message
    assert 'download cifar-100-python.tar.gz (md5 ' \
        f'{OFFICIAL_ARCHIVE_MD5}) on another machine and place it in ' \
        f'{root}/' in message
    # no partial download and no empty data root left behind
    assert not root.exists() and not os.listdir(tmp_path)


def test_corrupt_download_or_placed_archive_is_named(tmp_path, monkeypatch):
    def truncated(url, path):
        with open(path, 'wb') as f:
            f.write(b'\x1f\x8b half an archive')
    monkeypatch.setattr(cifar_fetch, '_download', truncated)
    root = tmp_path / 'data'
    root.mkdir()
    (root / 'cifar-100-python.tar.gz').write_bytes(b'not the archive')
    with pytest.raises(RuntimeError) as info:
        CIFAR100(str(root), 'train')
    message = str(info.value)
    assert 'failed (ValueError: the downloaded file has md5' in message
    assert f'({root}/cifar-100-python.tar.gz is there but has md5 ' \
        in message and 'replace it' in message


def test_data_root_check_lets_a_download_through(tmp_path):
    """The pre-flight data_root check reads CIFAR100's download default, so
    it passes the root the data set will fill, and refuses it with the
    download off."""
    missing = str(tmp_path / 'data' / 'cifar100')
    loader = dict(dataset=dict(type='CIFAR100', data_root=missing))
    check_data_roots(Config(dict(train_dataloader=loader)),
                     ['train_dataloader'])
    loader['dataset']['download'] = False
    with pytest.raises(FileNotFoundError, match='does not exist'):
        check_data_roots(Config(dict(train_dataloader=loader)),
                         ['train_dataloader'])
