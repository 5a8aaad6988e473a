"""Networks: the dual-head wrapper and the CIFAR / ImageNet zoo.  Importing
this package registers every network in MMEngine's root ``MODELS``."""
from . import cifar, imagenet
from .dual_head import (AUX_HEAD_KINDS, HEADS, DualHeadClassifier,
                        HeadOutputs, aux_state_keys, build_aux_head,
                        check_loss_heads, named_aux_modules)
from .image_classifier import ImageClassifier

__all__ = [
    'AUX_HEAD_KINDS', 'DualHeadClassifier', 'HEADS', 'HeadOutputs',
    'ImageClassifier', 'aux_state_keys', 'build_aux_head',
    'check_loss_heads', 'cifar', 'imagenet', 'named_aux_modules'
]
