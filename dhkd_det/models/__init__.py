"""Networks: the dual-head wrapper and the CIFAR / ImageNet zoo.  Importing
this package registers every network in MMEngine's root ``MODELS``."""
from . import cifar, imagenet
from .dual_head import (AUX_HEAD_KINDS, DualHeadClassifier, HeadOutputs,
                        build_aux_head)

__all__ = [
    'AUX_HEAD_KINDS', 'DualHeadClassifier', 'HeadOutputs', 'build_aux_head',
    'cifar', 'imagenet'
]
