"""Small data and models for tests, benchmarks and demos, as MMDetection's
``mmdet.testing``: a tiny COCO set and small detectors, the data config
pointing MMDetection's loaders at such a set, a random CIFAR-format set, an
ImageNet-layout folder of JPEGs and random teacher checkpoints.  Everything
is generated: nothing is downloaded."""
from .checkpoints import save_teacher
from .cifar import write_cifar_archive, write_random_cifar
from .coco import CLASSES, write_tiny_coco
from .data_cfg import (IMG_SCALE, coco_dataset, coco_loaders, coco_pipelines,
                       small_data_cfg)
from .detectors import (CONFIGS, SMALL_FASTER_RCNN, SMALL_RETINANET, WIDTH,
                        mmdet_configs, mmdet_model, resnet_fpn,
                        set_heads, shrink_detector, small_cascade_rcnn,
                        small_faster_rcnn, small_overrides, small_retinanet,
                        with_overrides)
from .distillers import small_cls_distiller_cfg
from .imagenet import write_imagenet
from .options import dotted

__all__ = [
    'CLASSES', 'CONFIGS', 'IMG_SCALE', 'SMALL_FASTER_RCNN', 'SMALL_RETINANET',
    'WIDTH', 'coco_dataset', 'coco_loaders', 'coco_pipelines', 'dotted',
    'mmdet_configs', 'mmdet_model', 'resnet_fpn', 'save_teacher',
    'set_heads', 'shrink_detector', 'small_cascade_rcnn', 'small_data_cfg',
    'small_cls_distiller_cfg', 'small_faster_rcnn', 'small_overrides',
    'small_retinanet',
    'with_overrides', 'write_cifar_archive', 'write_imagenet',
    'write_random_cifar', 'write_tiny_coco'
]
