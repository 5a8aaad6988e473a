# The CIFAR-100 teacher ResNet50, from mdistiller's / CRD's published
# checkpoints (a dict with key 'model', loaded as it is: unpack
# cifar_teachers.tar of mdistiller's release under checkpoints/).  One
# trained with configs/teachers/cifar100_ResNet50.py loads too.
# A distillation config takes it as a second base and hands it to its model:
#   _base_ = [<method base>, '../_base_/teachers/cifar100_ResNet50.py']
#   model = dict(teacher=_base_.teacher, teacher_ckpt=_base_.teacher_ckpt)
# These two names are read when the config is parsed: to train from another
# checkpoint, override model.teacher_ckpt (--cfg-options), not teacher_ckpt.
teacher = dict(type='ResNet50', num_classes=100)
teacher_ckpt = ('checkpoints/cifar_teachers/ResNet50_vanilla/'
                'ckpt_epoch_240.pth')
