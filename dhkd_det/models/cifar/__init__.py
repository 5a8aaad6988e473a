"""The CIFAR model zoo of CRD / mdistiller, registered in MMEngine's root
``MODELS`` under the names those projects use (the registry is the list).
"""
from .mobilenetv2 import MobileNetV2, mobile_half
from .resnet import (ResNet, resnet8, resnet8x4, resnet14, resnet20, resnet32,
                     resnet32x4, resnet44, resnet56, resnet110)
from .resnetv2 import ResNet50, ResNetV2
from .shufflenetv1 import ShuffleNet, ShuffleV1
from .shufflenetv2 import ShuffleNetV2, ShuffleV2
from .vgg import VGG, vgg8, vgg11, vgg13, vgg16, vgg19
from .wrn import WideResNet, wrn_16_1, wrn_16_2, wrn_40_1, wrn_40_2

__all__ = [
    'MobileNetV2', 'ResNet', 'ResNet50', 'ResNetV2', 'ShuffleNet',
    'ShuffleNetV2', 'ShuffleV1', 'ShuffleV2', 'VGG', 'WideResNet',
    'mobile_half', 'resnet8', 'resnet8x4', 'resnet14', 'resnet20',
    'resnet32', 'resnet32x4', 'resnet44', 'resnet56', 'resnet110', 'vgg8',
    'vgg11', 'vgg13', 'vgg16', 'vgg19', 'wrn_16_1', 'wrn_16_2', 'wrn_40_1',
    'wrn_40_2'
]
