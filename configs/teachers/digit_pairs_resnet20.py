# The digit-pairs teacher: resnet20 trained with CE only, by the CIFAR
# recipe shrunk to 30 epochs (the students' 24 and a little more: a teacher
# worth learning from must beat the student alone clearly; docs/study.md).
_base_ = [
    '../_base_/datasets/digit_pairs.py',
    '../_base_/schedules/digit_pairs_study.py',
    '../_base_/default_runtime.py'
]
custom_imports = dict(imports=['dhkd_det'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    student=dict(
        type='DualHeadClassifier',
        network=dict(type='resnet20', num_classes=100),
        aux_head=None),
    data_preprocessor={{_base_.data_preprocessor}})
param_scheduler = dict(milestones=[18, 22, 26])
train_cfg = dict(max_epochs=30)
default_hooks = dict(checkpoint=dict(save_best='top1', rule='greater'))
