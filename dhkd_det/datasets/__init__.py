from .cifar import CIFAR100, write_cifar
from .imagenet import ImageNet
from .preprocessor import ClsDataPreprocessor

__all__ = ['CIFAR100', 'write_cifar', 'ImageNet', 'ClsDataPreprocessor']
