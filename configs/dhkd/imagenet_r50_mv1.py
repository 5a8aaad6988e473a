# DHKD on ImageNet, torchvision ResNet50 -> MobileNetV1 (mdistiller: KD
# 70.50, DKD 72.05), the R34 -> R18 recipe otherwise.
_base_ = './imagenet_r34_r18.py'
model = dict(
    student=dict(network=dict(type='MobileNetV1')),
    teacher=dict(type='tv_resnet50'),
    teacher_ckpt='https://download.pytorch.org/models/resnet50-0676ba61.pth')
