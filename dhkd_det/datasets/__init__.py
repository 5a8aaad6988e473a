from .cifar import CIFAR100, write_cifar
from .collate import pass_through_collate
from .imagenet import ImageNet
from .preprocessor import ClsDataPreprocessor

__all__ = [
    'CIFAR100', 'write_cifar', 'pass_through_collate', 'ImageNet',
    'ClsDataPreprocessor'
]
