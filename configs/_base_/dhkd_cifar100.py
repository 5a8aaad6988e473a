# DHKD on CIFAR-100 (the reference quick start): CE on the main head,
# BinaryKLNorm (T=2, alpha=1) on a nonlinear aux head, gradient alignment.
# Pair configs set the student network, the teacher and its checkpoint.
_base_ = [
    'datasets/cifar100.py', 'schedules/cifar100_240e.py', 'default_runtime.py'
]
custom_imports = dict(imports=['dhkd_det'], allow_failed_imports=False)

num_classes = 100
model = dict(
    type='ClsDistiller',
    student=dict(
        type='DualHeadClassifier',
        network=dict(type='resnet8x4', num_classes=num_classes),
        aux_head='nonlinear'),
    teacher=dict(type='resnet32x4', num_classes=num_classes),
    # mdistiller's / CRD's published teachers (a dict with key 'model') load
    # as they are: unpack cifar_teachers.tar of mdistiller's release here.
    teacher_ckpt='checkpoints/cifar_teachers/resnet32x4_vanilla/'
    'ckpt_epoch_240.pth',
    task_losses=dict(main=dict(type='CELoss', loss_weight=1.0)),  # gamma
    distill_losses=dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0, loss_weight=1.0)),
    eval_aux=True,
    data_preprocessor={{_base_.data_preprocessor}})

optim_wrapper = dict(type='GradAlignOptimWrapper')
# under DDP the step stays the distiller's own (the task / distillation
# split reaches gradient alignment)
model_wrapper_cfg = dict(type='DistillerDataParallel')
# LossGuardHook: stop on a NaN / exploding loss before it is saved
custom_hooks = [dict(type='DHKDHook'), dict(type='LossGuardHook')]
default_hooks = dict(checkpoint=dict(save_best='top1', rule='greater'))
