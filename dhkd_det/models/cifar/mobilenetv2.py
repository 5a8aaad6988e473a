"""MobileNetV2 (Sandler et al., CVPR 2018) for CIFAR, as in CRD / mdistiller:
``mobile_half`` = expansion 6, width x0.5, 1280-d last conv.

Parameter and buffer names match ``mdistiller/models/cifar/mobilenetv2.py``
(``conv1``, ``blocks.i.j.conv.k``, ``conv2``, ``classifier.0``).
"""

import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor

from ..zoo_net import ZooNet
from .base import classifier_alias, reference_init


def conv_bn_relu(inp: int, oup: int, kernel_size: int,
                 stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, oup, kernel_size, stride, kernel_size // 2,
                  bias=False),
        nn.BatchNorm2d(oup), nn.ReLU(inplace=True))


class InvertedResidual(nn.Module):
    """1x1 expand -> 3x3 depthwise -> 1x1 linear projection; residual when
    shape is kept.  Unlike the paper, the reference keeps the expansion conv
    even at expand_ratio 1."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int):
        super().__init__()
        hidden = inp * expand_ratio
        self.use_res_connect = stride == 1 and inp == oup
        self.conv = nn.Sequential(
            nn.Conv2d(inp, hidden, 1, 1, 0, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden,
                      bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        )

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv(x)
        return x + out if self.use_res_connect else out


class MobileNetV2(ZooNet):
    """CIFAR MobileNetV2: stride-2 stem, 7 stages (strides 1,1,2,2,1,2,1),
    1x1 conv to 1280 -> global average pool -> ``classifier.0`` (also
    reachable as ``fc``)."""

    fc = classifier_alias('classifier.0')

    def __init__(self, expand_ratio: int = 6, width_mult: float = 0.5,
                 num_classes: int = 100):
        super().__init__()
        t = expand_ratio
        # expansion t, output channels c, blocks n, first stride s
        setting = [[1, 16, 1, 1], [t, 24, 2, 1], [t, 32, 3, 2],
                   [t, 64, 4, 2], [t, 96, 3, 1], [t, 160, 3, 2],
                   [t, 320, 1, 1]]
        input_channel = int(32 * width_mult)
        self.conv1 = conv_bn_relu(3, input_channel, 3, stride=2)
        self.blocks = nn.ModuleList()
        for t_i, c, n, s in setting:
            output_channel = int(c * width_mult)
            layers = []
            for stride in [s] + [1] * (n - 1):
                layers.append(InvertedResidual(input_channel, output_channel,
                                               stride, t_i))
                input_channel = output_channel
            self.blocks.append(nn.Sequential(*layers))
        last_channel = int(1280 * width_mult) if width_mult > 1.0 else 1280
        self.conv2 = conv_bn_relu(input_channel, last_channel, 1)
        self.classifier = nn.Sequential(nn.Linear(last_channel, num_classes))

        reference_init(self, linear_std=0.01)

    def forward_features(self, x: Tensor) -> Tensor:
        out = self.conv1(x)
        for block in self.blocks:
            out = block(out)
        out = self.conv2(out)
        return F.adaptive_avg_pool2d(out, 1).flatten(1)


@MODELS.register_module(name=['MobileNetV2', 'mobile_half'])
def mobile_half(num_classes: int = 100, **kwargs) -> MobileNetV2:
    """MobileNetV2 x0.5 (CRD's "MobileNetV2"), 32x32 -> (N, 1280) feature."""
    return MobileNetV2(6, 0.5, num_classes=num_classes, **kwargs)
