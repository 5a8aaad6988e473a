"""Where the package finds its configs and how a child process imports the
same package.

A wheel carries the configs inside the package, at ``dhkd_det/.mim/configs``
(where MMEngine looks up ``dhkd_det::`` config names, as it does
``mmdet::`` ones in ``mmdet/.mim/configs``); a source checkout, and an
editable install of it (``pip install -e .``), keeps them in the
repository's ``configs/`` beside the package."""
import os
import os.path as osp

#: the folder of the imported package (dhkd_det/)
PACKAGE = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: the folder holding the imported package: a source checkout's root, or
#: site-packages for an installed wheel
REPO = osp.dirname(PACKAGE)
#: the configs a wheel carries
INSTALLED_CONFIGS = osp.join(PACKAGE, '.mim', 'configs')
#: the configs this package reads: the wheel's where it has them, else the
#: checkout's configs/
CONFIGS = INSTALLED_CONFIGS if osp.isdir(INSTALLED_CONFIGS) else osp.join(
    REPO, 'configs')
#: the folder holding those configs/: a path the docs write from the
#: repository's root (``configs/dhkd/x.py``) is the same path from here
CONFIG_ROOT = osp.dirname(CONFIGS)


def config_file(relative: str) -> str:
    """A config of this package by its path under ``configs/``
    (``'dhkd/cifar100_res56_res20.py'``), wherever the configs are."""
    return osp.join(CONFIGS, relative)


def child_env(env: dict) -> dict:
    """``env`` with this package's folder first on ``PYTHONPATH``, so that a
    child ``python -m dhkd_det...`` imports the very package this process
    runs (a checkout run without installing it, or beside another
    installed copy)."""
    path = env.get('PYTHONPATH', '')
    return {**env, 'PYTHONPATH': REPO + (os.pathsep + path if path else '')}
