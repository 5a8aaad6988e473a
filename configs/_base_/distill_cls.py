# The neutral base of every classification distillation config, whatever
# the data set: a single-head student trained by CE on its labels, a frozen
# teacher, and no distillation loss yet.  The data set's base
# (distill_cifar100.py, distill_imagenet.py) adds the data and the schedule;
# a method's base or config adds its losses (and heads, optimizer wrapper,
# schedule of the losses); a teacher's base (teachers/) names the teacher
# and its checkpoint.  None of them undoes another's.
_base_ = 'default_runtime.py'
custom_imports = dict(imports=['dhkd_det'], allow_failed_imports=False)

model = dict(
    type='ClsDistiller',
    student=dict(type='DualHeadClassifier', aux_head=None),
    # the label loss; its weight is the gamma of the papers' total loss
    task_losses=dict(main=dict(type='CELoss', loss_weight=1.0)))

# under DDP the step stays the distiller's own (the task / distillation
# split reaches gradient alignment)
model_wrapper_cfg = dict(type='DistillerDataParallel')
# DHKDHook loads and checks the teacher before training
custom_hooks = _base_.custom_hooks + [dict(type='DHKDHook')]
default_hooks = dict(checkpoint=dict(save_best='top1', rule='greater'))
