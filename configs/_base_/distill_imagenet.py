# The neutral base of the ImageNet distillation configs: the ImageNet recipe
# on distill_cls.py.  A pair config names the student network and inherits
# its teacher from teachers/imagenet_<teacher>.py.
_base_ = [
    'datasets/imagenet.py', 'schedules/imagenet_100e.py', 'distill_cls.py'
]
model = dict(
    student=dict(network=dict(num_classes=1000)),
    data_preprocessor={{_base_.data_preprocessor}})
