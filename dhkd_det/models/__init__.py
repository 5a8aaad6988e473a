"""Networks: the dual-head wrapper and the CIFAR / ImageNet zoo.  Importing
this package registers every network in MMEngine's root ``MODELS``."""
from . import cifar, imagenet
from .cifar import CIFAR_MODELS
from .dual_head import (AUX_HEAD_KINDS, HEADS, DualHeadClassifier,
                        HeadOutputs, aux_state_keys, build_aux_head,
                        check_loss_heads, named_aux_modules,
                        plain_student_state)
from .image_classifier import ImageClassifier
from .imagenet import IMAGENET_MODELS

__all__ = [
    'AUX_HEAD_KINDS', 'CIFAR_MODELS', 'DualHeadClassifier', 'HEADS',
    'HeadOutputs', 'IMAGENET_MODELS', 'ImageClassifier', 'aux_state_keys',
    'build_aux_head', 'check_loss_heads', 'cifar', 'imagenet',
    'named_aux_modules', 'plain_student_state'
]
