# DHKD on ImageNet, torchvision ResNet50 -> MobileNetV1 (mdistiller: KD
# 70.50, DKD 72.05), the R34 -> R18 recipe otherwise.
_base_ = [
    '../_base_/dhkd_imagenet.py', '../_base_/teachers/imagenet_tv_resnet50.py'
]
model = dict(
    student=dict(network=dict(type='MobileNetV1')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt)
