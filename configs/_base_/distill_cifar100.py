# The neutral base of every CIFAR-100 distillation config (DHKD, KD, DKD):
# the CIFAR-100 recipe, a single-head student trained by CE on its labels,
# a frozen teacher, and no distillation loss yet.  A method config adds its
# losses (and heads, optimizer wrapper, schedule) to this; none of them
# undoes another's.
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
        aux_head=None),
    teacher=dict(type='resnet32x4', num_classes=num_classes),
    # mdistiller's / CRD's published teachers (a dict with key 'model') load
    # as they are: unpack cifar_teachers.tar of mdistiller's release here.
    teacher_ckpt='checkpoints/cifar_teachers/resnet32x4_vanilla/'
    'ckpt_epoch_240.pth',
    # the label loss; its weight is the gamma of the papers' total loss
    task_losses=dict(main=dict(type='CELoss', loss_weight=1.0)),
    data_preprocessor={{_base_.data_preprocessor}})

optim_wrapper = dict(type='OptimWrapper')
# under DDP the step stays the distiller's own (the task / distillation
# split reaches gradient alignment)
model_wrapper_cfg = dict(type='DistillerDataParallel')
# DHKDHook loads and checks the teacher before training; LossGuardHook stops
# on a NaN / exploding loss before it is saved
custom_hooks = [dict(type='DHKDHook'), dict(type='LossGuardHook')]
default_hooks = dict(checkpoint=dict(save_best='top1', rule='greater'))
