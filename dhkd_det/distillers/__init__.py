from .base import BaseDistiller
from .cls_distiller import ClsDistiller, ImageClassifier
from .teacher import (build_teacher, extract_state_dict,
                      load_teacher_checkpoint, match_keys)

__all__ = [
    'BaseDistiller', 'ClsDistiller', 'ImageClassifier', 'build_teacher',
    'extract_state_dict', 'load_teacher_checkpoint', 'match_keys'
]
