import socket

import pytest

# tests import it from here: a random CIFAR-format set
from dhkd_det.testing import write_random_cifar as make_cifar


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
