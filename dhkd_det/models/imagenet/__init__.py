"""ImageNet networks: torchvision ResNets and mdistiller's MobileNetV1,
registered in MMEngine's root ``MODELS``."""
from .mobilenetv1 import MobileNetV1
from .resnet import TVResNet, tv_resnet18, tv_resnet34, tv_resnet50

__all__ = ['MobileNetV1', 'TVResNet', 'tv_resnet18', 'tv_resnet34',
           'tv_resnet50']
