"""Networks: the dual-head wrapper and the CIFAR / ImageNet zoo.  Importing
this package registers every network in MMEngine's root ``MODELS``."""
from . import cifar, imagenet
from .cifar import CIFAR_MODELS
from .dual_head import (AUX_HEAD_KINDS, DualHeadClassifier, HeadOutputs,
                        build_aux_head)
from .imagenet import IMAGENET_MODELS

__all__ = [
    'AUX_HEAD_KINDS', 'CIFAR_MODELS', 'DualHeadClassifier', 'HeadOutputs',
    'IMAGENET_MODELS', 'build_aux_head', 'cifar', 'imagenet'
]
