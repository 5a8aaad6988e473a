# DHKD on ImageNet, torchvision ResNet34 -> ResNet18 (mdistiller: KD 71.03,
# DKD 71.70): linear aux head, BinaryKLNorm T=2 alpha=0.1, aux loss off
# after epoch 50. Unlike the reference script, the student is torchvision's
# ResNet18 and AMP takes one optimizer step per batch.
_base_ = [
    '../_base_/dhkd_imagenet.py', '../_base_/teachers/imagenet_tv_resnet34.py'
]
model = dict(
    student=dict(network=dict(type='tv_resnet18')),
    teacher=_base_.teacher,
    teacher_ckpt=_base_.teacher_ckpt)
