import os
import socket

import pytest

# no test reaches the internet: URLs other than this machine's are
# unreachable (dhkd_det.utils.download), in the tools' subprocesses too
os.environ['DHKD_OFFLINE'] = '1'

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


def pytest_collection_modifyitems(config, items):
    """Every test under tests/e2e/ runs the tools end to end (subprocesses,
    training): it is ``slow`` (registered in pytest.ini) without each file
    saying so; elsewhere a test that starts a process says it itself."""
    for item in items:
        if 'e2e' in item.path.parts:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def registered():
    """``registered(registry, obj)`` registers ``obj`` (a class or a
    factory) under its name for one test and removes it afterwards, so no
    test module changes MMEngine's global registries by being imported."""
    added = []

    def register(registry, obj):
        name = obj.__name__
        assert name not in registry.module_dict, name
        registry.register_module(module=obj)
        added.append((registry, name))
        return obj

    yield register
    for registry, name in added:
        registry._module_dict.pop(name)
