"""torchvision's ImageNet ResNets (He et al., CVPR 2016) with the zoo's
``forward_features`` / ``feat_dim``; parameter names are torchvision's, so
torchvision's ImageNet weights load strictly."""
from mmengine.registry import MODELS
from torch import Tensor
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from ..zoo_net import ZooNet


class TVResNet(ZooNet, ResNet):
    """torchvision ``ResNet`` whose forward is ``fc(forward_features(x))``."""

    def forward_features(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.avgpool(x).flatten(1)


@MODELS.register_module()
def tv_resnet18(num_classes: int = 1000, **kwargs) -> TVResNet:
    """ResNet-18, 224x224 input -> (N, 512) feature."""
    return TVResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes,
                    **kwargs)


@MODELS.register_module()
def tv_resnet34(num_classes: int = 1000, **kwargs) -> TVResNet:
    """ResNet-34, 224x224 input -> (N, 512) feature."""
    return TVResNet(BasicBlock, [3, 4, 6, 3], num_classes=num_classes,
                    **kwargs)


@MODELS.register_module()
def tv_resnet50(num_classes: int = 1000, **kwargs) -> TVResNet:
    """ResNet-50, 224x224 input -> (N, 2048) feature."""
    return TVResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes,
                    **kwargs)
