"""What every Python process of an environment with dhkd_det installed
runs at start-up, before (and without) importing dhkd_det, torch, mmcv or
MMEngine: the one line of ``dhkd_det_mmcv_ops.pth`` (``tools/install.sh``
and a wheel put it into site-packages; the line is
``ops/startup_hook_line.txt``) loads this file by path and calls
``install()``, which puts two finders on ``sys.meta_path``:

* ``ops/import_hook.py``'s: ``import mmcv.ops`` finds kernels where mmcv
  has no compiled ones;
* ``ConfigPackageFinder``: when MMEngine's config reader is imported, the
  ``dhkd_det`` entry is added to its table of packages whose configs may be
  named ``package::path`` (``MODULE2PACKAGE``), the entry
  ``dhkd_det.registry.register_config_package`` adds on ``import
  dhkd_det``.  So a user's config that inherits ours,
  ``_base_ = 'dhkd_det::dhkd/coco_faster_rcnn_r101_r50.py'``, is read by any
  script, MMDetection's own ``tools/train.py`` included, which parses the
  config before its ``custom_imports`` import dhkd_det.

Nothing of MMEngine is replaced: the finder hands the import to the finder
that would have made it and adds the table entry once the module has run.

This file uses the standard library only."""
import importlib.util
import os
import sys

#: the module that holds MMEngine's MODULE2PACKAGE table
TABLE_MODULE = 'mmengine.config.utils'
SCOPE = 'dhkd_det'
HERE = os.path.dirname(os.path.abspath(__file__))


class _AddEntryAfterRunning:
    """The loader of ``TABLE_MODULE``, which adds our entry once the module
    has run; everything else is the original loader's."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        table = getattr(module, 'MODULE2PACKAGE', None)
        if isinstance(table, dict):
            table.setdefault(SCOPE, SCOPE)

    def __getattr__(self, name):  # get_source, get_filename, ...
        return getattr(self._loader, name)


class ConfigPackageFinder:
    """Answers nothing itself: for ``TABLE_MODULE`` it asks the finders
    after it and wraps the loader the first one returns."""

    dhkd_config_package = True  # how install() recognises an installed copy

    def find_spec(self, fullname, path=None, target=None):
        if fullname != TABLE_MODULE:
            return None
        for finder in sys.meta_path:
            if getattr(finder, 'dhkd_config_package', False):
                continue
            find = getattr(finder, 'find_spec', None)
            spec = find(fullname, path, target) if find else None
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _AddEntryAfterRunning(spec.loader)
                return spec
        return None


def _mmcv_ops_hook():
    """``ops/import_hook.py``, loaded by path (no package import)."""
    spec = importlib.util.spec_from_file_location(
        'dhkd_det_mmcv_ops_hook', os.path.join(HERE, 'ops', 'import_hook.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install() -> None:
    """Both finders, once per interpreter (the table entry at once where
    MMEngine's config reader is already imported)."""
    _mmcv_ops_hook().install()
    if not any(getattr(f, 'dhkd_config_package', False)
               for f in sys.meta_path):
        sys.meta_path.insert(0, ConfigPackageFinder())
    table = getattr(sys.modules.get(TABLE_MODULE), 'MODULE2PACKAGE', None)
    if isinstance(table, dict):
        table.setdefault(SCOPE, SCOPE)
