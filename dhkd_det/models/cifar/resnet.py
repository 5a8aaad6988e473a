"""CIFAR ResNets (He et al., CVPR 2016, section 4.2) as in CRD / mdistiller.

Parameter and buffer names match ``mdistiller/models/cifar/resnet.py`` so the
published ``cifar_teachers/resnet*_vanilla`` checkpoints load strictly.
"""
from typing import List, Optional

import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor

from ..zoo_net import ZooNet
from .base import reference_init


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride,
                     padding=1, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs with an identity or 1x1-conv+BN (``downsample``)
    shortcut."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        residual = x if self.downsample is None else self.downsample(x)
        return F.relu(out + residual)


class ResNet(ZooNet):
    """CIFAR ResNet: 3x3 stem -> 3 stages of (depth-2)/6 basic blocks
    (strides 1/2/2) -> global average pool -> fc.

    Args:
        depth: 6n+2.
        num_filters: [stem, stage1, stage2, stage3] widths, e.g.
            [16, 16, 32, 64] or [32, 64, 128, 256] for the "x4" nets.
        num_classes: classes of ``fc``.
    """

    def __init__(self, depth: int, num_filters: List[int],
                 num_classes: int = 100):
        super().__init__()
        if (depth - 2) % 6 != 0:
            raise ValueError(f'depth={depth}: a CIFAR ResNet of basic blocks '
                             'needs depth = 6n+2 (8, 20, 32, 56, 110, ...)')
        n = (depth - 2) // 6
        self.inplanes = num_filters[0]
        self.conv1 = nn.Conv2d(3, num_filters[0], kernel_size=3, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(num_filters[0])
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(num_filters[1], n)
        self.layer2 = self._make_layer(num_filters[2], n, stride=2)
        self.layer3 = self._make_layer(num_filters[3], n, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(num_filters[3], num_classes)

        reference_init(self)

    def _make_layer(self, planes: int, blocks: int,
                    stride: int = 1) -> nn.Sequential:
        downsample = None
        # The x4 nets widen in layer1 too (32 -> 64), so their first block
        # needs a projection shortcut even at stride 1.
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, kernel_size=1, stride=stride,
                          bias=False),
                nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward_features(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.avgpool(x).flatten(1)


@MODELS.register_module()
def resnet8(num_classes: int = 100, **kwargs) -> ResNet:
    """ResNet-8, widths 16/16/32/64, 32x32 input -> (N, 64) feature."""
    return ResNet(8, [16, 16, 32, 64], num_classes=num_classes, **kwargs)


@MODELS.register_module()
def resnet14(num_classes: int = 100, **kwargs) -> ResNet:
    """ResNet-14, widths 16/16/32/64, 32x32 input -> (N, 64) feature."""
    return ResNet(14, [16, 16, 32, 64], num_classes=num_classes, **kwargs)


@MODELS.register_module()
def resnet20(num_classes: int = 100, **kwargs) -> ResNet:
    """ResNet-20, widths 16/16/32/64, 32x32 input -> (N, 64) feature."""
    return ResNet(20, [16, 16, 32, 64], num_classes=num_classes, **kwargs)


@MODELS.register_module()
def resnet32(num_classes: int = 100, **kwargs) -> ResNet:
    """ResNet-32, widths 16/16/32/64, 32x32 input -> (N, 64) feature."""
    return ResNet(32, [16, 16, 32, 64], num_classes=num_classes, **kwargs)


@MODELS.register_module()
def resnet44(num_classes: int = 100, **kwargs) -> ResNet:
    """ResNet-44, widths 16/16/32/64, 32x32 input -> (N, 64) feature."""
    return ResNet(44, [16, 16, 32, 64], num_classes=num_classes, **kwargs)


@MODELS.register_module()
def resnet56(num_classes: int = 100, **kwargs) -> ResNet:
    """ResNet-56, widths 16/16/32/64, 32x32 input -> (N, 64) feature."""
    return ResNet(56, [16, 16, 32, 64], num_classes=num_classes, **kwargs)


@MODELS.register_module()
def resnet110(num_classes: int = 100, **kwargs) -> ResNet:
    """ResNet-110, widths 16/16/32/64, 32x32 input -> (N, 64) feature."""
    return ResNet(110, [16, 16, 32, 64], num_classes=num_classes, **kwargs)


@MODELS.register_module()
def resnet8x4(num_classes: int = 100, **kwargs) -> ResNet:
    """ResNet-8 x4 wide (CRD), widths 32/64/128/256 -> (N, 256) feature."""
    return ResNet(8, [32, 64, 128, 256], num_classes=num_classes, **kwargs)


@MODELS.register_module()
def resnet32x4(num_classes: int = 100, **kwargs) -> ResNet:
    """ResNet-32 x4 wide (CRD), widths 32/64/128/256 -> (N, 256) feature."""
    return ResNet(32, [32, 64, 128, 256], num_classes=num_classes, **kwargs)
