"""Dual-Head Knowledge Distillation (DHKD) as MMEngine / MMDetection plugins.

Importing the package registers every module and lets mmcv without
compiled ops use the kernels of ``dhkd_det.ops``.  The classification path needs
only torch, torchvision and mmengine; the detection heads and distiller are
registered into MMDetection's registries when mmdet and mmcv are installed.
"""
from importlib.util import find_spec

from . import ops

# before anything imports mmcv.ops: mmcv without compiled ops then gets the
# kernels served by torchvision (a no-op where the .pth hook did it already)
ops.install()

# the layers, lowest first: each imports only the ones above it in this list
from . import (utils, losses, models, datasets, evaluation,  # noqa: E402
               checkpoint, optim, distillers, checks, engine, apis)
# the `dhkd_det` scope and config package: `_base_ = 'dhkd_det::...'`
from . import registry  # noqa: E402,F401

__version__ = '0.1.0'

HAS_MMDET = find_spec('mmdet') is not None and find_spec('mmcv') is not None
if HAS_MMDET:
    from . import heads  # noqa: F401
    from .distillers import det_distiller  # noqa: F401
