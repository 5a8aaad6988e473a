import socket

import numpy as np
import pytest

from dhkd_det.datasets import write_cifar


def make_cifar(root, num_classes=10, n_train=64, n_test=32, seed=0):
    """Writes a small random CIFAR-format set under ``root`` and returns
    ``(train, test, class_names)`` as passed to ``write_cifar``: images uint8
    (N, 32, 32, 3), labels int64 (N,) cycling through every class."""
    rng = np.random.default_rng(seed)

    def split(n):
        images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        labels = rng.permutation(np.arange(n) % num_classes)
        return images, labels

    train, test = split(n_train), split(n_test)
    class_names = [f'class_{i}' for i in range(num_classes)]
    write_cifar(str(root), train, test, class_names)
    return train, test, class_names


@pytest.fixture
def cifar_root(tmp_path):
    """A folder holding ``cifar-100-python/`` from ``make_cifar`` defaults."""
    make_cifar(tmp_path)
    return str(tmp_path)


def free_port() -> int:
    """A TCP port free on this machine now, for a test's process group."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: runs the real tools as subprocesses (minutes)')
