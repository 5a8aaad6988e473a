"""A small random classification set in CIFAR's on-disk layout, as a folder
or as the official archive."""
import os.path as osp
import shutil
import tarfile
from typing import List, Tuple

import numpy as np
from torchvision.datasets.utils import calculate_md5

from ..datasets import write_cifar

Split = Tuple[np.ndarray, np.ndarray]


def write_random_cifar(root: str, num_classes: int = 10, n_train: int = 64,
                       n_test: int = 32,
                       seed: int = 0) -> Tuple[Split, Split, List[str]]:
    """Writes random images under ``root/cifar-100-python/`` (read by our
    ``CIFAR100`` data set with ``num_classes`` classes) and returns
    ``(train, test, class_names)`` as passed to ``write_cifar``: images
    uint8 (N, 32, 32, 3), labels int64 (N,) cycling through every class in
    a random order, so that each class has images when N >= classes."""
    rng = np.random.default_rng(seed)

    def split(n):
        images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        labels = rng.permutation(np.arange(n) % num_classes)
        return images, labels

    train, test = split(n_train), split(n_test)
    class_names = [f'class_{i}' for i in range(num_classes)]
    write_cifar(str(root), train, test, class_names)
    return train, test, class_names


def write_cifar_archive(path: str, num_classes: int = 10, n_train: int = 12,
                        n_test: int = 6) -> str:
    """A random set as ``cifar-100-python.tar.gz`` at ``path``, laid out as
    the official archive (``cifar-100-python/{train,test,meta}``), for the
    download path without a download; returns its md5."""
    scratch = osp.join(osp.dirname(path), 'archive_content')
    write_random_cifar(scratch, num_classes=num_classes, n_train=n_train,
                       n_test=n_test)
    with tarfile.open(path, 'w:gz') as tar:
        tar.add(osp.join(scratch, 'cifar-100-python'),
                arcname='cifar-100-python')
    shutil.rmtree(scratch)
    return calculate_md5(path)
