# A CIFAR-100 teacher trained with CE only, by the same recipe as students.
# The checkpoint (work_dirs/<config>/best_top1_*.pth) loads as a teacher
# through model.teacher_ckpt of the distillation configs.
_base_ = [
    'datasets/cifar100.py', 'schedules/cifar100_240e.py', 'default_runtime.py'
]
custom_imports = dict(imports=['dhkd_det'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    student=dict(
        type='DualHeadClassifier',
        network=dict(type='resnet32x4', num_classes=100),
        aux_head=None),
    data_preprocessor={{_base_.data_preprocessor}})
default_hooks = dict(checkpoint=dict(save_best='top1', rule='greater'))
