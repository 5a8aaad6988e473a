"""The classification label check reads the labels of a data set held on
the device (``CIFAR100(device=...)``, a tensor) as it reads NumPy ones:
tools/train.py runs it before every training run."""
from types import SimpleNamespace

import pytest
from mmengine.config import Config

from dhkd_det.checks.labels import check_label_range
from dhkd_det.datasets import CIFAR100
from dhkd_det.testing import write_random_cifar


@pytest.fixture(scope='module')
def cifar_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('cifar'))
    write_random_cifar(root, num_classes=10, n_train=64, n_test=8)
    return root


def fake_runner(root, device, num_classes):
    dataset_cfg = dict(type='CIFAR100', data_root=root, check_md5=False,
                       device=device)
    return SimpleNamespace(
        model=SimpleNamespace(student=SimpleNamespace(
            num_classes=num_classes)),
        cfg=Config(dict(train_dataloader=dict(dataset=dataset_cfg))),
        train_dataloader=SimpleNamespace(dataset=CIFAR100(
            root, check_md5=False, device=device)))


@pytest.mark.parametrize('device', [None, 'cpu'])
def test_labels_on_the_device_are_checked(cifar_root, device):
    top = int(max(CIFAR100(cifar_root, check_md5=False)._labels))
    check_label_range(fake_runner(cifar_root, device, top + 1),
                      ('train_dataloader', ))  # no error
    with pytest.raises(ValueError, match=f'has labels up to {top} '):
        check_label_range(fake_runner(cifar_root, device, top),
                          ('train_dataloader', ))
