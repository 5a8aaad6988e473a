"""ShuffleNetV2 (Ma et al., ECCV 2018) for CIFAR, as in CRD / mdistiller
(``ShuffleV2``: net size 1, widths 116/232/464, 1024-d last conv).

Parameter and buffer names match ``mdistiller/models/cifar/ShuffleNetv2.py``
(``layerK.0`` a ``DownBlock`` with ``conv1..5``, then ``BasicBlock``s with
``conv1..3``; ``conv2``, ``bn2``, ``linear``).
"""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor

from ..zoo_net import ZooNet
from .base import channel_shuffle, classifier_alias


class BasicBlock(nn.Module):
    """Split the channels in half, transform one half (1x1 -> depthwise 3x3
    -> 1x1), concatenate, shuffle."""

    def __init__(self, in_channels: int, split_ratio: float = 0.5):
        super().__init__()
        self.split_ratio = split_ratio
        c = int(in_channels * split_ratio)
        self.conv1 = nn.Conv2d(c, c, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, kernel_size=3, stride=1, padding=1,
                               groups=c, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv3 = nn.Conv2d(c, c, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)

    def forward(self, x: Tensor) -> Tensor:
        c = int(x.size(1) * self.split_ratio)
        x1, x2 = x[:, :c], x[:, c:]
        out = F.relu(self.bn1(self.conv1(x2)))
        out = self.bn2(self.conv2(out))
        out = F.relu(self.bn3(self.conv3(out)))
        return channel_shuffle(torch.cat([x1, out], 1), 2)


class DownBlock(nn.Module):
    """Stride-2 unit: two branches (depthwise -> 1x1, and 1x1 -> depthwise
    -> 1x1), each giving half the output channels; concatenate, shuffle."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        mid = out_channels // 2
        self.conv1 = nn.Conv2d(in_channels, in_channels, kernel_size=3,
                               stride=2, padding=1, groups=in_channels,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, mid, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(in_channels, mid, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv4 = nn.Conv2d(mid, mid, kernel_size=3, stride=2, padding=1,
                               groups=mid, bias=False)
        self.bn4 = nn.BatchNorm2d(mid)
        self.conv5 = nn.Conv2d(mid, mid, kernel_size=1, bias=False)
        self.bn5 = nn.BatchNorm2d(mid)

    def forward(self, x: Tensor) -> Tensor:
        left = self.bn1(self.conv1(x))
        left = F.relu(self.bn2(self.conv2(left)))
        right = F.relu(self.bn3(self.conv3(x)))
        right = self.bn4(self.conv4(right))
        right = F.relu(self.bn5(self.conv5(right)))
        return channel_shuffle(torch.cat([left, right], 1), 2)


class ShuffleNetV2(ZooNet):
    """CIFAR ShuffleNetV2: 1x1 stem (24) -> 3 stages (a DownBlock then basic
    blocks) -> 1x1 conv -> global average pool -> ``linear`` (also ``fc``)."""

    fc = classifier_alias('linear')

    def __init__(self, out_channels: Sequence[int], num_blocks: Sequence[int],
                 num_classes: int = 100):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 24, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.in_channels = 24
        self.layer1 = self._make_layer(out_channels[0], num_blocks[0])
        self.layer2 = self._make_layer(out_channels[1], num_blocks[1])
        self.layer3 = self._make_layer(out_channels[2], num_blocks[2])
        self.conv2 = nn.Conv2d(out_channels[2], out_channels[3],
                               kernel_size=1, stride=1, padding=0, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels[3])
        self.linear = nn.Linear(out_channels[3], num_classes)

    def _make_layer(self, out_channels: int,
                    num_blocks: int) -> nn.Sequential:
        layers = [DownBlock(self.in_channels, out_channels)]
        layers += [BasicBlock(out_channels) for _ in range(num_blocks)]
        self.in_channels = out_channels
        return nn.Sequential(*layers)

    def forward_features(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.relu(self.bn2(self.conv2(out)))
        return F.adaptive_avg_pool2d(out, 1).flatten(1)


@MODELS.register_module()
def ShuffleV2(num_classes: int = 100, **kwargs) -> ShuffleNetV2:
    """ShuffleNetV2 1x, 32x32 input -> (N, 1024) feature."""
    return ShuffleNetV2((116, 232, 464, 1024), (3, 7, 3),
                        num_classes=num_classes, **kwargs)
