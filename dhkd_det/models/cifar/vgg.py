"""VGG with batch norm (Simonyan & Zisserman, ICLR 2015) for CIFAR, as in
CRD / mdistiller (``vgg*_bn``; CRD's "vgg8" is their 5-conv variant).

Parameter and buffer names match ``mdistiller/models/cifar/vgg.py``
(``block0.0.weight`` ... ``classifier.weight``) so the published
``cifar_teachers/vgg13_vanilla`` checkpoint loads strictly.
"""
from typing import List

import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor

from ..zoo_net import ZooNet
from .base import classifier_alias, reference_init

# Conv widths of the five blocks; a 2x2 max-pool separates blocks.
CONFIGS = {
    'S': [[64], [128], [256], [512], [512]],
    'A': [[64], [128], [256, 256], [512, 512], [512, 512]],
    'B': [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
    'D': [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512],
          [512, 512, 512]],
    'E': [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512],
          [512, 512, 512, 512]],
}


def make_block(widths: List[int], in_channels: int) -> nn.Sequential:
    """conv3x3-BN-ReLU per width, without the last ReLU: the network applies
    it, as the reference does (it also exposes the pre-ReLU feature)."""
    layers = []
    for v in widths:
        layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1),
                   nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
        in_channels = v
    return nn.Sequential(*layers[:-1])


class VGG(ZooNet):
    """CIFAR VGG: five conv blocks -> global average pool -> (N, 512) ->
    ``classifier`` (also reachable as ``fc``)."""

    fc = classifier_alias('classifier')

    def __init__(self, cfg: List[List[int]], num_classes: int = 100):
        super().__init__()
        self.block0 = make_block(cfg[0], 3)
        self.block1 = make_block(cfg[1], cfg[0][-1])
        self.block2 = make_block(cfg[2], cfg[1][-1])
        self.block3 = make_block(cfg[3], cfg[2][-1])
        self.block4 = make_block(cfg[4], cfg[3][-1])
        self.pool0 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.pool3 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.pool4 = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Linear(cfg[4][-1], num_classes)

        reference_init(self, linear_std=0.01)

    def forward_features(self, x: Tensor) -> Tensor:
        # The reference pools after block3 only for 64x64 inputs
        # (Tiny-ImageNet); on 32x32 block4 runs at 4x4.
        pool3 = x.shape[2] == 64
        x = self.pool0(F.relu(self.block0(x)))
        x = self.pool1(F.relu(self.block1(x)))
        x = self.pool2(F.relu(self.block2(x)))
        x = F.relu(self.block3(x))
        if pool3:
            x = self.pool3(x)
        x = F.relu(self.block4(x))
        return self.pool4(x).flatten(1)


@MODELS.register_module()
def vgg8(num_classes: int = 100, **kwargs) -> VGG:
    """VGG-8 with BN (5 convs + fc), 32x32 input -> (N, 512) feature."""
    return VGG(CONFIGS['S'], num_classes=num_classes, **kwargs)


@MODELS.register_module()
def vgg11(num_classes: int = 100, **kwargs) -> VGG:
    """VGG-11 with BN, 32x32 input -> (N, 512) feature."""
    return VGG(CONFIGS['A'], num_classes=num_classes, **kwargs)


@MODELS.register_module()
def vgg13(num_classes: int = 100, **kwargs) -> VGG:
    """VGG-13 with BN, 32x32 input -> (N, 512) feature."""
    return VGG(CONFIGS['B'], num_classes=num_classes, **kwargs)


@MODELS.register_module()
def vgg16(num_classes: int = 100, **kwargs) -> VGG:
    """VGG-16 with BN, 32x32 input -> (N, 512) feature."""
    return VGG(CONFIGS['D'], num_classes=num_classes, **kwargs)


@MODELS.register_module()
def vgg19(num_classes: int = 100, **kwargs) -> VGG:
    """VGG-19 with BN, 32x32 input -> (N, 512) feature."""
    return VGG(CONFIGS['E'], num_classes=num_classes, **kwargs)
