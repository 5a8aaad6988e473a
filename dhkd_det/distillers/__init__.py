from .base import BaseDistiller, Distilled, LossSplit
from .cls_distiller import ClsDistiller
from .teacher import build_teacher

__all__ = ['BaseDistiller', 'ClsDistiller', 'Distilled', 'LossSplit',
           'build_teacher']
