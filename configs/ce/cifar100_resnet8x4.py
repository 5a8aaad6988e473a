# The CE-only student: resnet8x4 trained on the labels alone by the same
# recipe as the teachers and the distilled students, the baseline every
# distillation method is measured against.
_base_ = '../_base_/cifar100_teacher.py'
model = dict(
    student=dict(network=dict(type='resnet8x4')),
    # the model's default, written out: the sweep's `ce` method reads it
    task_losses=dict(main=dict(type='CELoss', loss_weight=1.0)))
