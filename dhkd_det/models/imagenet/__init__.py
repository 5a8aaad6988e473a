"""ImageNet networks: torchvision ResNets and mdistiller's MobileNetV1,
registered in MMEngine's root ``MODELS``."""
from .mobilenetv1 import MobileNetV1
from .resnet import TVResNet, tv_resnet18, tv_resnet34, tv_resnet50

IMAGENET_MODELS = {
    'tv_resnet18': tv_resnet18,
    'tv_resnet34': tv_resnet34,
    'tv_resnet50': tv_resnet50,
    'MobileNetV1': MobileNetV1,
}

__all__ = ['IMAGENET_MODELS', 'MobileNetV1', 'TVResNet', *IMAGENET_MODELS]
