"""Dual-Head Knowledge Distillation (DHKD) as MMEngine / MMDetection plugins.

Importing the package registers every module.  The classification path needs
only torch, torchvision and mmengine; the detection heads and distiller are
registered into MMDetection's registries when mmdet and mmcv are installed.
"""
from importlib.util import find_spec

from . import datasets, distillers, engine, evaluation, losses, models

__version__ = '0.1.0'

HAS_MMDET = find_spec('mmdet') is not None and find_spec('mmcv') is not None
if HAS_MMDET:
    from . import heads  # noqa: F401
    from .distillers import det_distiller  # noqa: F401
