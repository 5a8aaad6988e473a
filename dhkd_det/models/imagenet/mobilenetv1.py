"""MobileNetV1 (Howard et al., 2017) for ImageNet, as in mdistiller's
``imagenet/mobilenetv1.py`` (the R50 -> MV1 student).

Parameter and buffer names match the reference (``model.0`` ... ``model.13``,
``fc``).
"""
import torch.nn as nn
from mmengine.registry import MODELS
from torch import Tensor

from ..zoo_net import ZooNet


def conv_bn(inp: int, oup: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, oup, 3, stride, 1, bias=False),
        nn.BatchNorm2d(oup), nn.ReLU(inplace=True))


def conv_dw(inp: int, oup: int, stride: int) -> nn.Sequential:
    """Depthwise 3x3 -> BN -> ReLU -> pointwise 1x1 -> BN -> ReLU."""
    return nn.Sequential(
        nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False),
        nn.BatchNorm2d(inp), nn.ReLU(inplace=True),
        nn.Conv2d(inp, oup, 1, 1, 0, bias=False),
        nn.BatchNorm2d(oup), nn.ReLU(inplace=True))


class MobileNetV1(ZooNet):
    """ImageNet MobileNetV1 (width 1.0): 224x224 input -> (N, 1024) -> fc."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        # (in, out, stride) of the 13 depthwise-separable layers
        dw = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2),
              (256, 256, 1), (256, 512, 2), (512, 512, 1), (512, 512, 1),
              (512, 512, 1), (512, 512, 1), (512, 512, 1), (512, 1024, 2),
              (1024, 1024, 1)]
        # The reference ends with AvgPool2d(7), which only fits 224x224
        # inputs; the adaptive pool equals it there, holds no parameters
        # (same state dict) and also serves smaller inputs.
        self.model = nn.Sequential(conv_bn(3, 32, 2),
                                   *[conv_dw(*d) for d in dw],
                                   nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(1024, num_classes)

    def forward_features(self, x: Tensor) -> Tensor:
        return self.model(x).flatten(1)


MODELS.register_module(name='MobileNetV1', module=MobileNetV1)
