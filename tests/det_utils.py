"""Small detection fixtures for the CPU tests: a tiny COCO-format data set
written to disk, and small Faster R-CNN / Cascade R-CNN / RetinaNet configs
(ResNet-18, narrow FPN, few proposals, no pretrained weights)."""
import copy
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import mmdet
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MMDET_CONFIGS = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs')
CLASSES = ('red', 'green', 'blue')
_COLORS = ((0, 0, 220), (0, 200, 0), (230, 40, 0))  # BGR per class
WIDTH = 64  # FPN / head width of the small detectors
IMG_SCALE = (192, 128)


@pytest.fixture(autouse=True)
def mmdet_scope():
    """Builds by type name resolve in MMDetection's registries, as under a
    Runner with ``default_scope='mmdet'``; the previous scope comes back
    after the test, so other test modules keep theirs.  Import it into a
    test module to use it there."""
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


def write_tiny_coco(root: str, name: str = 'train', num_images: int = 4,
                    size=(160, 120), seed: int = 0,
                    empty: Sequence[int] = (),
                    extra_anns: Optional[Dict[int, List[list]]] = None
                    ) -> str:
    """Writes ``root/images/<name>_<i>.jpg`` with 1-3 filled rectangles each
    (colour = class) and ``root/annotations/<name>.json`` in COCO format;
    returns the JSON path.

    Args:
        empty: indices of images written without any box.
        extra_anns: ``{image index: [[x, y, w, h, class index], ...]}``
            appended to the annotations as given (e.g. invalid boxes).
    """
    rng = np.random.default_rng(seed)
    w, h = size
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    images, anns = [], []
    for i in range(num_images):
        img = rng.integers(90, 140, (h, w, 3), dtype=np.uint8)
        file_name = f'{name}_{i}.jpg'
        boxes = []
        if i not in empty:
            for _ in range(int(rng.integers(1, 4))):
                bw, bh = (int(rng.uniform(0.2, 0.5) * side)
                          for side in (w, h))
                x, y = rng.integers(0, w - bw), rng.integers(0, h - bh)
                cls = int(rng.integers(0, len(CLASSES)))
                img[y:y + bh, x:x + bw] = _COLORS[cls]
                boxes.append([int(x), int(y), int(bw), int(bh), cls])
        boxes += (extra_anns or {}).get(i, [])
        cv2.imwrite(osp.join(root, 'images', file_name), img)
        images.append(dict(id=i + 1, file_name=file_name, width=w, height=h))
        for x, y, bw, bh, cls in boxes:
            anns.append(dict(id=len(anns) + 1, image_id=i + 1,
                             category_id=cls + 1, bbox=[x, y, bw, bh],
                             area=float(bw * bh), iscrowd=0))
    ann_file = osp.join(root, 'annotations', f'{name}.json')
    with open(ann_file, 'w') as f:
        json.dump(dict(images=images, annotations=anns,
                       categories=[dict(id=i + 1, name=n)
                                   for i, n in enumerate(CLASSES)]), f)
    return ann_file


def mmdet_model(config: str) -> Config:
    """The ``model`` of an MMDetection config, read from its file (the
    ``mmdet::`` names are for the real configs)."""
    return copy.deepcopy(Config.fromfile(osp.join(MMDET_CONFIGS,
                                                  config)).model)


# Overrides turning MMDetection's R50-FPN detectors into small ones; the
# same dict serves our distiller's student, its teacher and the plain config
# of the exported student.
SMALL_FASTER_RCNN = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=WIDTH),
    rpn_head=dict(in_channels=WIDTH, feat_channels=WIDTH),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=WIDTH),
        bbox_head=dict(in_channels=WIDTH, fc_out_channels=128,
                       num_classes=len(CLASSES))),
    train_cfg=dict(rpn_proposal=dict(nms_pre=300, max_per_img=100),
                   rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=100),
                  rcnn=dict(score_thr=0.0)))

SMALL_RETINANET = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=WIDTH),
    bbox_head=dict(in_channels=WIDTH, feat_channels=WIDTH, stacked_convs=2,
                   num_classes=len(CLASSES)),
    test_cfg=dict(nms_pre=300, score_thr=0.0))


def small_faster_rcnn(dual: bool = True,
                      bbox_head: str = 'Shared2FCBBoxHead',
                      **overrides) -> Config:
    """A small Faster R-CNN model config with the box head ``bbox_head``
    (one of MMDetection's ConvFC heads), dual by default."""
    model = _small('faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py',
                   SMALL_FASTER_RCNN, overrides)
    model.roi_head.bbox_head.update(_box_head(bbox_head, dual))
    if dual:
        model.roi_head.type = 'DualStandardRoIHead'
    return model


def small_cascade_rcnn(dual: bool = True, **overrides) -> Config:
    """A small Cascade R-CNN model config (three stages of
    ``Shared2FCBBoxHead``), dual in every stage by default."""
    small = copy.deepcopy(SMALL_FASTER_RCNN)
    # the cascade's per-stage lists are set below, stage by stage
    rcnn_head = small['roi_head'].pop('bbox_head')
    rcnn_sampler = small['train_cfg'].pop('rcnn')['sampler']
    model = _small('cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py', small,
                   overrides)
    for head in model.roi_head.bbox_head:
        head.update(rcnn_head, **_box_head('Shared2FCBBoxHead', dual))
    for stage_cfg in model.train_cfg.rcnn:
        stage_cfg.sampler.update(rcnn_sampler)
    if dual:
        model.roi_head.type = 'DualCascadeRoIHead'
    return model


def _box_head(plain_type: str, dual: bool) -> dict:
    # narrow convs keep the four-conv head quick on CPU
    convs = dict(conv_out_channels=WIDTH) if 'Conv' in plain_type else {}
    return dict(type=('Dual' if dual else '') + plain_type, **convs)


def small_retinanet(dual: bool = True, **overrides) -> Config:
    """A small RetinaNet model config (dual head by default)."""
    model = _small('retinanet/retinanet_r50_fpn_2x_coco.py', SMALL_RETINANET,
                   overrides)
    if dual:
        model.bbox_head.type = 'DualRetinaHead'
    return model


def _small(config: str, small: dict, overrides: dict) -> Config:
    cfg = Config(dict(model=mmdet_model(config)))
    cfg.merge_from_dict(_dotted(dict(model=small)))
    cfg.merge_from_dict(_dotted(dict(model=overrides)))
    return cfg.model


def _dotted(d: dict, prefix: str = '') -> dict:
    """{'a': {'b': 1}} -> {'a.b': 1}, the form ``merge_from_dict`` merges
    key by key."""
    out = {}
    for k, v in d.items():
        key = f'{prefix}{k}'
        if isinstance(v, dict) and v:
            out.update(_dotted(v, key + '.'))
        else:
            out[key] = v
    return out


def small_data_cfg(root: str, train: str = 'train', val: str = 'val',
                   batch_size: int = 2) -> str:
    """Config text pointing the COCO dataloaders / evaluator of a config at
    ``root`` (written by ``write_tiny_coco``) with small images."""
    return f'''
classes = {CLASSES!r}
_pipeline_train = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale={IMG_SCALE!r}, keep_ratio=True),
    dict(type='PackDetInputs')
]
_pipeline_test = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale={IMG_SCALE!r}, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                          'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size={batch_size}, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={root + '/'!r}, metainfo=dict(classes=classes),
                 ann_file='annotations/{train}.json',
                 data_prefix=dict(img='images/'),
                 filter_cfg=dict(filter_empty_gt=False, min_size=0),
                 pipeline=_pipeline_train))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={root + '/'!r}, metainfo=dict(classes=classes),
                 ann_file='annotations/{val}.json',
                 data_prefix=dict(img='images/'), pipeline=_pipeline_test))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file={osp.join(root, 'annotations', val + '.json')!r})
test_evaluator = val_evaluator
default_hooks = dict(logger=dict(interval=1),
                     visualization=dict(type='DetVisualizationHook'))
log_processor = dict(window_size=1)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
'''


def write_config(path: str, text: str) -> str:
    with open(path, 'w') as f:
        f.write(text)
    return path


def save_detector(path: str, model_cfg: dict, seed: int = 0,
                  state: Optional[dict] = None):
    """Builds ``model_cfg``, initialises it with ``seed`` (or loads
    ``state``) and saves it as an MMEngine checkpoint; returns the model."""
    import torch
    from mmdet.registry import MODELS
    torch.manual_seed(seed)
    model = MODELS.build(copy.deepcopy(model_cfg))
    model.init_weights()
    if state is not None:
        model.load_state_dict(state)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return model
