# DHKD on ImageNet, torchvision ResNet34 -> ResNet18 (mdistiller: KD 71.03,
# DKD 71.70): linear aux head, BinaryKLNorm T=2 alpha=0.1, aux loss off
# after epoch 50. Unlike the reference script, the student is torchvision's
# ResNet18 and AMP takes one optimizer step per batch.
_base_ = [
    '../_base_/datasets/imagenet.py', '../_base_/schedules/imagenet_100e.py',
    '../_base_/default_runtime.py'
]
custom_imports = dict(imports=['dhkd_det'], allow_failed_imports=False)
model = dict(
    type='ClsDistiller',
    student=dict(
        type='DualHeadClassifier',
        network=dict(type='tv_resnet18', num_classes=1000),
        aux_head='linear'),
    teacher=dict(type='tv_resnet34', num_classes=1000),
    teacher_ckpt='https://download.pytorch.org/models/resnet34-b627a593.pth',
    task_losses=dict(main=dict(type='CELoss', loss_weight=1.0)),
    distill_losses=dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=0.1)),
    eval_aux=True,
    data_preprocessor={{_base_.data_preprocessor}})
# under DDP the step stays the distiller's own (the task / distillation
# split reaches gradient alignment)
model_wrapper_cfg = dict(type='DistillerDataParallel')
# DHKDHook loads the teacher; the schedule switches the aux loss off after
# epoch 50; LossGuardHook stops on a NaN / exploding loss before it is saved
custom_hooks = [
    dict(type='DHKDHook'),
    dict(type='DistillScheduleHook', stop_epoch=50),
    dict(type='LossGuardHook')
]
default_hooks = dict(checkpoint=dict(save_best='top1', rule='greater'))
