"""Small MMDetection detectors for tests, benchmarks and demos: the R50-FPN
Faster R-CNN, Cascade R-CNN and RetinaNet of MMDetection's configs shrunk to
a ResNet-18 backbone, a narrow FPN and head and few proposals (no pretrained
weights), with DHKD's dual heads or the plain ones."""
import copy
import os.path as osp

from mmengine.config import Config, ConfigDict

from .coco import CLASSES
from .options import dotted

#: the MMDetection configs the small detectors start from
CONFIGS = dict(
    faster_rcnn='faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py',
    cascade_rcnn='cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py',
    retinanet='retinanet/retinanet_r50_fpn_2x_coco.py')
#: FPN / head width of the small detectors
WIDTH = 64


def mmdet_configs() -> str:
    """The folder of MMDetection's configs (the ``mmdet::`` names), imported
    only when asked for: the classification helpers run without mmdet."""
    import mmdet
    return osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs')


def mmdet_model(config: str) -> ConfigDict:
    """The ``model`` of an MMDetection config (a path under its
    ``configs/``, e.g. ``CONFIGS['retinanet']``), read from its file."""
    return copy.deepcopy(Config.fromfile(osp.join(mmdet_configs(),
                                                  config)).model)


def resnet_fpn(depth: int = 18, base_channels: int = 64, width: int = 256,
               from_scratch: bool = False) -> dict:
    """Overrides of a ResNet-FPN detector's backbone and neck: a ResNet of
    ``depth`` and ``base_channels`` without pretrained weights, its FPN
    ``width`` channels wide (the neck's inputs follow the backbone).

    ``from_scratch``: the first stage is not frozen and the BatchNorm
    layers learn their statistics; MMDetection freezes both, which suits an
    ImageNet-initialised backbone only."""
    expansion = 4 if depth >= 50 else 1  # Bottleneck vs BasicBlock
    backbone = dict(depth=depth, base_channels=base_channels, init_cfg=None)
    if from_scratch:
        backbone.update(frozen_stages=-1, norm_eval=False)
    return dict(
        backbone=backbone,
        neck=dict(in_channels=[base_channels * expansion * 2**i
                               for i in range(4)],
                  out_channels=width))


def small_overrides(kind: str = 'faster_rcnn',
                    num_classes: int = len(CLASSES), base_channels: int = 64,
                    width: int = WIDTH, fc_width: int = 128,
                    score_thr: float = 0.0,
                    from_scratch: bool = False) -> dict:
    """Overrides turning MMDetection's R50-FPN ``kind`` ('faster_rcnn' or
    'retinanet') into a small one: ResNet-18 (see ``resnet_fpn``), FPN and
    heads ``width`` wide, a ``fc_width`` box head, 300 / 100 proposals and
    every detection above ``score_thr`` kept (an untrained model scores
    every box low, and CocoMetric computes nothing from no detection).  The
    same dict serves a distiller's student, its teacher and a plain
    config."""
    small = resnet_fpn(18, base_channels, width, from_scratch)
    if kind == 'retinanet':
        small.update(
            bbox_head=dict(in_channels=width, feat_channels=width,
                           stacked_convs=2, num_classes=num_classes),
            test_cfg=dict(nms_pre=300, score_thr=score_thr))
    elif kind == 'faster_rcnn':
        small.update(
            rpn_head=dict(in_channels=width, feat_channels=width),
            roi_head=dict(
                bbox_roi_extractor=dict(out_channels=width),
                bbox_head=dict(in_channels=width, fc_out_channels=fc_width,
                               num_classes=num_classes)),
            train_cfg=dict(rpn_proposal=dict(nms_pre=300, max_per_img=100),
                           rcnn=dict(sampler=dict(num=64))),
            test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=100),
                          rcnn=dict(score_thr=score_thr)))
    else:
        raise ValueError(f"kind must be 'faster_rcnn' or 'retinanet', got "
                         f'{kind!r}')
    return small


#: ``small_overrides()`` of each kind, as config text takes them
SMALL_FASTER_RCNN = small_overrides('faster_rcnn')
SMALL_RETINANET = small_overrides('retinanet')


def with_overrides(model: dict, overrides: dict) -> ConfigDict:
    """A copy of ``model`` with ``overrides`` merged in key by key, as
    ``--cfg-options`` would."""
    cfg = Config(dict(model=copy.deepcopy(model)))
    cfg.merge_from_dict(dotted(dict(model=overrides)))
    return cfg.model


def set_heads(model: ConfigDict, dual: bool) -> ConfigDict:
    """Gives ``model`` (in place, and returns it) DHKD's dual heads
    (``Dual<head>`` for the RoI head and each box head, or the dense head)
    or the plain ones (the ``Dual`` dropped, with the ``aux_head`` option
    of the dual box heads)."""
    def retype(cfg):
        plain = cfg.type[len('Dual'):] if cfg.type.startswith('Dual') else \
            cfg.type
        cfg.type = ('Dual' if dual else '') + plain
        if not dual:
            cfg.pop('aux_head', None)

    if 'roi_head' in model:
        retype(model.roi_head)
        heads = model.roi_head.bbox_head
        for head in heads if isinstance(heads, list) else [heads]:
            retype(head)
    else:
        retype(model.bbox_head)
    return model


def shrink_detector(model: dict, kind: str, dual: bool, **small) -> dict:
    """``model`` (an R50/R101-FPN ``kind`` of MMDetection's or ours, plain
    or dual) shrunk by ``small_overrides(kind, **small)``, with dual or
    plain heads: e.g. a DHKD config's student made small, and its teacher
    from it."""
    return set_heads(with_overrides(model, small_overrides(kind, **small)),
                     dual)


def small_faster_rcnn(dual: bool = True,
                      bbox_head: str = 'Shared2FCBBoxHead',
                      **overrides) -> ConfigDict:
    """A small Faster R-CNN model config with the box head ``bbox_head``
    (one of MMDetection's ConvFC heads), dual by default; ``overrides``
    are merged in last."""
    model = mmdet_model(CONFIGS['faster_rcnn'])
    model.roi_head.bbox_head.type = bbox_head
    if 'Conv' in bbox_head:  # narrow convs keep a conv head quick on CPU
        model.roi_head.bbox_head.conv_out_channels = WIDTH
    return with_overrides(shrink_detector(model, 'faster_rcnn', dual),
                          overrides)


def small_cascade_rcnn(dual: bool = True, **overrides) -> ConfigDict:
    """A small Cascade R-CNN model config (three stages of
    ``Shared2FCBBoxHead``), dual in every stage by default."""
    small = small_overrides('faster_rcnn')
    # the cascade's per-stage lists are set below, stage by stage
    rcnn_head = small['roi_head'].pop('bbox_head')
    rcnn_sampler = small['train_cfg'].pop('rcnn')['sampler']
    model = with_overrides(mmdet_model(CONFIGS['cascade_rcnn']), small)
    for head in model.roi_head.bbox_head:
        head.update(rcnn_head)
    for stage_cfg in model.train_cfg.rcnn:
        stage_cfg.sampler.update(rcnn_sampler)
    return with_overrides(set_heads(model, dual), overrides)


def small_retinanet(dual: bool = True, **overrides) -> ConfigDict:
    """A small RetinaNet model config (dual head by default)."""
    return with_overrides(
        shrink_detector(mmdet_model(CONFIGS['retinanet']), 'retinanet',
                        dual), overrides)
