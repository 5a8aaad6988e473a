"""ResNet-50 for CIFAR (He et al., CVPR 2016: bottleneck blocks, 3x3 stride-1
stem, no max-pool), as in CRD / mdistiller's ``resnetv2.py`` (the name is
theirs; it is not a pre-activation ResNet).

Parameter and buffer names match the reference (``layerK.i.conv1..3``,
``shortcut.0/1``, ``linear``) so ``cifar_teachers/ResNet50_vanilla`` loads
strictly.
"""
from typing import Sequence

import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor

from ..zoo_net import ZooNet
from .base import classifier_alias, reference_init


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (stride) -> 1x1 (x4 channels), projection ``shortcut``
    when the shape changes."""

    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        out_planes = self.expansion * planes
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride,
                               padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_planes, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != out_planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride,
                          bias=False),
                nn.BatchNorm2d(out_planes))

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + self.shortcut(x))


class ResNetV2(ZooNet):
    """CIFAR bottleneck ResNet: 3x3 stem (64) -> 4 stages (widths 64..512,
    x4 expansion, strides 1/2/2/2) -> global average pool -> ``linear``
    (also ``fc``)."""

    fc = classifier_alias('linear')

    def __init__(self, num_blocks: Sequence[int], num_classes: int = 100):
        super().__init__()
        self.in_planes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = self._make_layer(64, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(128, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(256, num_blocks[2], stride=2)
        self.layer4 = self._make_layer(512, num_blocks[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear = nn.Linear(512 * Bottleneck.expansion, num_classes)

        reference_init(self)

    def _make_layer(self, planes: int, num_blocks: int,
                    stride: int) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(Bottleneck(self.in_planes, planes, s))
            self.in_planes = planes * Bottleneck.expansion
        return nn.Sequential(*layers)

    def forward_features(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.avgpool(out).flatten(1)


@MODELS.register_module()
def ResNet50(num_classes: int = 100, **kwargs) -> ResNetV2:
    """CIFAR ResNet-50 (3/4/6/3 bottlenecks), 32x32 -> (N, 2048) feature."""
    return ResNetV2((3, 4, 6, 3), num_classes=num_classes, **kwargs)
