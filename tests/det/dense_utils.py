"""Small ATSS and FCOS detectors for the dense-head tests: MMDetection's
R50-FPN configs shrunk as ``dhkd_det.testing`` shrinks RetinaNet (ResNet-18,
a narrow FPN and head, two tower convs, no pretrained weights), with the
dual head or the plain one."""
from dhkd_det.testing import CLASSES, WIDTH
from dhkd_det.testing.detectors import (mmdet_model, resnet_fpn, set_heads,
                                        with_overrides)

#: the MMDetection configs the small dense detectors start from
DENSE_CONFIGS = dict(
    atss='atss/atss_r50_fpn_1x_coco.py',
    fcos='fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py')


def small_dense(kind: str, dual: bool = True, **overrides):
    """A small ``kind`` ('atss' or 'fcos') model config, dual head by
    default; ``overrides`` are merged in last."""
    small = resnet_fpn(18, 64, WIDTH)
    small.update(
        bbox_head=dict(in_channels=WIDTH, feat_channels=WIDTH,
                       stacked_convs=2, num_classes=len(CLASSES)),
        test_cfg=dict(nms_pre=300, score_thr=0.0))
    model = with_overrides(mmdet_model(DENSE_CONFIGS[kind]), small)
    return with_overrides(set_heads(model, dual), overrides)


def small_atss(dual: bool = True, **overrides):
    return small_dense('atss', dual, **overrides)


def small_fcos(dual: bool = True, **overrides):
    return small_dense('fcos', dual, **overrides)
