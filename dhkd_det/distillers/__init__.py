from .base import BaseDistiller, Distilled
from .cls_distiller import ClsDistiller
from .teacher import (build_teacher, extract_state_dict,
                      load_teacher_checkpoint, match_keys)

__all__ = [
    'BaseDistiller', 'ClsDistiller', 'Distilled', 'build_teacher',
    'extract_state_dict', 'load_teacher_checkpoint', 'match_keys'
]
