from .cifar import CIFAR100, write_cifar
from .cifar_fetch import fetch_cifar100
from .coco import write_coco
from .collate import pass_through_collate
from .digit_pairs import digit_pairs_as_cifar
from .digit_scenes import digit_scenes_as_coco
from .digits import (digit_split, digits_as_cifar, digits_as_coco,
                     load_digits_images)
from .imagenet import ImageNet
from .jpeg_preprocessor import JpegClsDataPreprocessor
from .preprocessor import ClsDataPreprocessor

__all__ = [
    'CIFAR100', 'write_cifar', 'fetch_cifar100', 'write_coco',
    'digit_pairs_as_cifar', 'digits_as_cifar', 'digits_as_coco',
    'digit_split', 'load_digits_images', 'pass_through_collate', 'ImageNet',
    'ClsDataPreprocessor', 'JpegClsDataPreprocessor', 'digit_scenes_as_coco'
]
