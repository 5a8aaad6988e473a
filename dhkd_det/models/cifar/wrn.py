"""Wide ResNets (Zagoruyko & Komodakis, BMVC 2016) as in CRD / mdistiller.

Parameter and buffer names match ``mdistiller/models/cifar/wrn.py``
(``block1.layer.0.bn1``, ``convShortcut``, ...) so the published
``cifar_teachers/wrn_40_2_vanilla`` checkpoint loads strictly.
"""

import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor

from ..zoo_net import ZooNet
from .base import reference_init


class BasicBlock(nn.Module):
    """Pre-activation block: BN-ReLU-conv3x3-BN-ReLU-[dropout]-conv3x3, with
    a 1x1 ``convShortcut`` on the pre-activated input when widths differ."""

    def __init__(self, in_planes: int, out_planes: int, stride: int,
                 drop_rate: float = 0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, out_planes, kernel_size=3,
                               stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_planes, out_planes, kernel_size=3,
                               stride=1, padding=1, bias=False)
        self.drop_rate = drop_rate
        self.equal_in_out = in_planes == out_planes
        self.convShortcut = None if self.equal_in_out else nn.Conv2d(
            in_planes, out_planes, kernel_size=1, stride=stride, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        preact = self.relu1(self.bn1(x))
        out = self.relu2(self.bn2(self.conv1(preact)))
        if self.drop_rate > 0:
            out = F.dropout(out, p=self.drop_rate, training=self.training)
        out = self.conv2(out)
        # The reference adds the raw input on identity blocks but the
        # pre-activated one on projection blocks.
        shortcut = x if self.equal_in_out else self.convShortcut(preact)
        return shortcut + out


class NetworkBlock(nn.Module):
    """A stage of ``nb_layers`` blocks; only the first one changes width and
    stride.  Kept as a wrapper for its ``.layer`` key prefix."""

    def __init__(self, nb_layers: int, in_planes: int, out_planes: int,
                 stride: int, drop_rate: float = 0.0):
        super().__init__()
        self.layer = nn.Sequential(*[
            BasicBlock(in_planes if i == 0 else out_planes, out_planes,
                       stride if i == 0 else 1, drop_rate)
            for i in range(nb_layers)
        ])

    def forward(self, x: Tensor) -> Tensor:
        return self.layer(x)


class WideResNet(ZooNet):
    """WRN-depth-k: conv3x3(16) -> 3 stages of (depth-4)/6 blocks, widths
    16k/32k/64k, strides 1/2/2 -> BN-ReLU -> global average pool -> fc."""

    def __init__(self, depth: int, widen_factor: int = 1,
                 num_classes: int = 100, drop_rate: float = 0.0):
        super().__init__()
        if (depth - 4) % 6 != 0:
            raise ValueError(f'depth={depth}: a wide ResNet needs depth = '
                             '6n+4 (16, 22, 28, 40, ...)')
        n = (depth - 4) // 6
        widths = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        self.conv1 = nn.Conv2d(3, widths[0], kernel_size=3, stride=1,
                               padding=1, bias=False)
        self.block1 = NetworkBlock(n, widths[0], widths[1], 1, drop_rate)
        self.block2 = NetworkBlock(n, widths[1], widths[2], 2, drop_rate)
        self.block3 = NetworkBlock(n, widths[2], widths[3], 2, drop_rate)
        self.bn1 = nn.BatchNorm2d(widths[3])
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(widths[3], num_classes)

        reference_init(self, linear_zero_bias=True)

    def forward_features(self, x: Tensor) -> Tensor:
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = self.relu(self.bn1(out))
        return F.adaptive_avg_pool2d(out, 1).flatten(1)


@MODELS.register_module()
def wrn_16_1(num_classes: int = 100, **kwargs) -> WideResNet:
    """WRN-16-1, 32x32 input -> (N, 64) feature."""
    return WideResNet(16, 1, num_classes=num_classes, **kwargs)


@MODELS.register_module()
def wrn_16_2(num_classes: int = 100, **kwargs) -> WideResNet:
    """WRN-16-2, 32x32 input -> (N, 128) feature."""
    return WideResNet(16, 2, num_classes=num_classes, **kwargs)


@MODELS.register_module()
def wrn_40_1(num_classes: int = 100, **kwargs) -> WideResNet:
    """WRN-40-1, 32x32 input -> (N, 64) feature."""
    return WideResNet(40, 1, num_classes=num_classes, **kwargs)


@MODELS.register_module()
def wrn_40_2(num_classes: int = 100, **kwargs) -> WideResNet:
    """WRN-40-2, 32x32 input -> (N, 128) feature."""
    return WideResNet(40, 2, num_classes=num_classes, **kwargs)
