from .cifar import CIFAR100, write_cifar
from .coco import write_coco
from .collate import pass_through_collate
from .digits import (digit_split, digits_as_cifar, digits_as_coco,
                     load_digits_images)
from .imagenet import ImageNet
from .preprocessor import ClsDataPreprocessor

__all__ = [
    'CIFAR100', 'write_cifar', 'write_coco', 'digits_as_cifar',
    'digits_as_coco', 'digit_split', 'load_digits_images',
    'pass_through_collate', 'ImageNet', 'ClsDataPreprocessor'
]
