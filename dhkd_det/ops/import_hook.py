"""Decides, when ``mmcv._ext`` is first imported, which kernels mmcv's ops
use: mmcv's compiled extension where one is installed, otherwise the
torchvision / PyTorch kernels of ``served_ext.py``.

mmcv's Python package (``mmcv-lite``, or mmcv built with
``MMCV_WITH_OPS=0``) imports its kernels as the module ``mmcv._ext``; with
the finder below on ``sys.meta_path`` that import finds a module either way,
so ``import mmcv.ops``, ``import mmdet.models`` and MMDetection's own tools
work whatever is imported first.  The finder is installed at interpreter
start-up by the one-line ``dhkd_det_mmcv_ops.pth`` (its line is
``startup_hook_line.txt`` beside this file; it runs
``dhkd_det/startup_hook.py``, which loads this file) that
``tools/install.sh`` (and a wheel of this package) puts into site-packages,
and again by ``import dhkd_det``.

This file uses the standard library only: the ``.pth`` line loads it by
path, before (and without) importing ``dhkd_det``, torch or mmcv.

``DHKD_MMCV_OPS`` chooses:

* unset or ``auto``: the compiled ops if installed, else the served ones;
* ``torchvision``: the served ops even where compiled ones exist (A/B runs);
* ``mmcv`` (or ``compile``): mmcv's compiled ops, an error without them.
"""
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

ENV = 'DHKD_MMCV_OPS'
MODULE = 'mmcv._ext'
SERVED_FILE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), 'served_ext.py')
HOW_TO_COMPILE = (
    'build mmcv with compiled ops: `DHKD_MMCV_OPS=compile bash '
    'tools/install.sh` (CUDA kernels where nvcc and a GPU are visible)')


def requested_mode() -> str:
    """``'auto'``, ``'torchvision'`` or ``'mmcv'`` from ``DHKD_MMCV_OPS``."""
    value = os.environ.get(ENV, '').strip().lower() or 'auto'
    if value == 'compile':
        return 'mmcv'
    if value not in ('auto', 'torchvision', 'mmcv'):
        raise ImportError(
            f'{ENV}={value!r} is not understood: use auto (the default), '
            'torchvision (served ops) or mmcv (compiled ops required)')
    return value


def compiled_spec():
    """The spec of mmcv's compiled ``_ext`` if one is installed, else None."""
    mmcv = sys.modules.get('mmcv')
    path = getattr(mmcv, '__path__', None)
    if not path:
        return None
    return importlib.machinery.PathFinder.find_spec(MODULE, path)


class MmcvOpsFinder(importlib.abc.MetaPathFinder):
    """Answers the import of ``mmcv._ext`` and nothing else."""

    dhkd_mmcv_ops = True  # how install() recognises an installed copy

    def find_spec(self, fullname, path=None, target=None):
        if fullname != MODULE:
            return None
        mode = requested_mode()
        if mode != 'torchvision':
            compiled = compiled_spec()
            if compiled is not None:
                return compiled
            if mode == 'mmcv':
                raise ImportError(
                    f'{ENV}=mmcv requires mmcv\'s compiled ops, but the '
                    'installed mmcv has none (mmcv-lite or a build with '
                    f'MMCV_WITH_OPS=0): {HOW_TO_COMPILE}, or unset {ENV} to '
                    'use the ops served by torchvision')
        return importlib.util.spec_from_file_location(MODULE, SERVED_FILE)


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once per interpreter)."""
    if not any(getattr(f, 'dhkd_mmcv_ops', False) for f in sys.meta_path):
        sys.meta_path.insert(0, MmcvOpsFinder())
