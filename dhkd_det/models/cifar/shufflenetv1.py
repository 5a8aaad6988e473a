"""ShuffleNetV1 (Zhang et al., CVPR 2018) for CIFAR, as in CRD / mdistiller
(``ShuffleV1``: groups 3, stage widths 240/480/960, 4/8/4 units).

Parameter and buffer names match ``mdistiller/models/cifar/ShuffleNetv1.py``
(``layerK.i.conv1..3``, ``bn1..3``, ``linear``).
"""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor

from ..zoo_net import ZooNet
from .base import channel_shuffle, classifier_alias


class Bottleneck(nn.Module):
    """Group 1x1 -> shuffle -> depthwise 3x3 -> group 1x1; a stride-2 unit
    concatenates an average-pooled shortcut instead of adding it."""

    def __init__(self, in_planes: int, out_planes: int, stride: int,
                 groups: int):
        super().__init__()
        self.stride = stride
        mid_planes = out_planes // 4
        # The 24-channel stem output is too thin to split into groups.
        self.first_groups = 1 if in_planes == 24 else groups
        self.conv1 = nn.Conv2d(in_planes, mid_planes, kernel_size=1,
                               groups=self.first_groups, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_planes)
        self.conv2 = nn.Conv2d(mid_planes, mid_planes, kernel_size=3,
                               stride=stride, padding=1, groups=mid_planes,
                               bias=False)
        self.bn2 = nn.BatchNorm2d(mid_planes)
        self.conv3 = nn.Conv2d(mid_planes, out_planes, kernel_size=1,
                               groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = channel_shuffle(out, self.first_groups)
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.stride == 2:
            res = F.avg_pool2d(x, 3, stride=2, padding=1)
            return F.relu(torch.cat([out, res], 1))
        return F.relu(out + x)


class ShuffleNet(ZooNet):
    """CIFAR ShuffleNetV1: 1x1 stem (24) -> 3 stages, each opening with a
    stride-2 unit -> global average pool -> ``linear`` (also ``fc``)."""

    fc = classifier_alias('linear')

    def __init__(self, out_planes: Sequence[int], num_blocks: Sequence[int],
                 groups: int, num_classes: int = 100):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 24, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.in_planes = 24
        self.layer1 = self._make_layer(out_planes[0], num_blocks[0], groups)
        self.layer2 = self._make_layer(out_planes[1], num_blocks[1], groups)
        self.layer3 = self._make_layer(out_planes[2], num_blocks[2], groups)
        self.linear = nn.Linear(out_planes[2], num_classes)

    def _make_layer(self, out_planes: int, num_blocks: int,
                    groups: int) -> nn.Sequential:
        # The first unit's branch produces only what the concatenated
        # shortcut does not supply.
        layers = [Bottleneck(self.in_planes, out_planes - self.in_planes,
                             stride=2, groups=groups)]
        layers += [Bottleneck(out_planes, out_planes, stride=1, groups=groups)
                   for _ in range(1, num_blocks)]
        self.in_planes = out_planes
        return nn.Sequential(*layers)

    def forward_features(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return F.adaptive_avg_pool2d(out, 1).flatten(1)


@MODELS.register_module()
def ShuffleV1(num_classes: int = 100, **kwargs) -> ShuffleNet:
    """ShuffleNetV1 g=3, 32x32 input -> (N, 960) feature."""
    return ShuffleNet((240, 480, 960), (4, 8, 4), groups=3,
                      num_classes=num_classes, **kwargs)
