"""MMDetection's COCO data loaders and evaluators pointed at a small set
written by ``dhkd_det.datasets.write_coco`` (a ``write_tiny_coco`` set, the
digits): the overrides, and the same as config text for the tests' files."""
import os.path as osp
from pprint import pformat
from typing import Optional, Sequence, Tuple

from .coco import CLASSES

#: image scale of the tiny sets' pipelines
IMG_SCALE = (192, 128)


def coco_dataset(data_root: str, split: str,
                 classes: Optional[Sequence[str]] = None) -> dict:
    """Overrides of a ``CocoDataset`` reading ``data_root``'s
    ``annotations/<split>.json`` and ``images/`` (its ``classes`` as
    metainfo when given, else the config's)."""
    dataset = dict(data_root=osp.join(data_root, ''),
                   ann_file=f'annotations/{split}.json',
                   data_prefix=dict(img='images/'))
    if classes is not None:
        dataset['metainfo'] = dict(classes=tuple(classes))
    return dataset


def coco_pipelines(scale: Tuple[int, int]) -> Tuple[list, list]:
    """(train, test) pipelines resizing to ``scale`` with the aspect ratio
    kept: MMDetection's, without the random flip (a mirrored digit is not
    a digit, and a test that trains a few steps wants no randomness)."""
    train = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='Resize', scale=scale, keep_ratio=True),
        dict(type='PackDetInputs')
    ]
    test = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=scale, keep_ratio=True),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='PackDetInputs',
             meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                        'scale_factor'))
    ]
    return train, test


def coco_loaders(data_root: str, classes: Sequence[str] = CLASSES,
                 scale: Tuple[int, int] = IMG_SCALE, batch_size: int = 2,
                 test_batch_size: int = 1, train: str = 'train',
                 val: str = 'val',
                 filter_empty_gt: Optional[bool] = None) -> dict:
    """Nested overrides of the train / val / test loaders (no workers, the
    pipelines of ``coco_pipelines``, no box too small) and the evaluators
    (the ``val`` split's JSON): merged into a config they train and
    evaluate it on ``data_root``.  ``filter_empty_gt``: whether images
    without boxes are left out of training (None: as the config says)."""
    train_pipeline, test_pipeline = coco_pipelines(scale)
    filter_cfg = dict(min_size=0)
    if filter_empty_gt is not None:
        filter_cfg['filter_empty_gt'] = filter_empty_gt

    def loader(split, pipeline, batch, **dataset):
        return dict(batch_size=batch, num_workers=0, persistent_workers=False,
                    dataset=dict(coco_dataset(data_root, split, classes),
                                 pipeline=pipeline, **dataset))

    evaluator = dict(ann_file=osp.join(data_root, 'annotations',
                                       f'{val}.json'))
    return dict(
        train_dataloader=loader(train, train_pipeline, batch_size,
                                filter_cfg=filter_cfg),
        val_dataloader=loader(val, test_pipeline, test_batch_size),
        test_dataloader=loader(val, test_pipeline, test_batch_size),
        val_evaluator=evaluator, test_evaluator=dict(evaluator))


def small_data_cfg(root: str, train: str = 'train', val: str = 'val',
                   batch_size: int = 2) -> str:
    """Config text training and evaluating a config on ``root`` (a
    ``write_tiny_coco`` set, empty images kept) with small images, logging
    every iteration, drawing the val images, gloo for a CPU process
    group."""
    options = coco_loaders(root, batch_size=batch_size, train=train, val=val,
                           filter_empty_gt=False)
    options.update(
        default_hooks=dict(logger=dict(interval=1),
                           visualization=dict(type='DetVisualizationHook')),
        log_processor=dict(window_size=1),
        env_cfg=dict(dist_cfg=dict(backend='gloo')))
    return '\n' + ''.join(f'{key} = {pformat(value, sort_dicts=False)}\n'
                          for key, value in options.items())
