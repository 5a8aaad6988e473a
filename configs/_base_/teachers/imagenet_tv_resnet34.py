# The ImageNet teacher torchvision ResNet34, with torchvision's weights.
# A distillation config takes it as a second base and hands it to its model:
#   _base_ = [<method base>, '../_base_/teachers/imagenet_tv_resnet34.py']
#   model = dict(teacher=_base_.teacher, teacher_ckpt=_base_.teacher_ckpt)
# These two names are read when the config is parsed: to train from another
# checkpoint, override model.teacher_ckpt (--cfg-options), not teacher_ckpt.
teacher = dict(type='tv_resnet34', num_classes=1000)
teacher_ckpt = 'https://download.pytorch.org/models/resnet34-b627a593.pth'
