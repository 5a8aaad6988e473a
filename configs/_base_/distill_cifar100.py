# The neutral base of every CIFAR-100 distillation config (DHKD, KD, DKD):
# the CIFAR-100 recipe on distill_cls.py.  A pair config names the student
# network and inherits its teacher from teachers/cifar100_<teacher>.py.
_base_ = [
    'datasets/cifar100.py', 'schedules/cifar100_240e.py', 'distill_cls.py'
]
num_classes = 100
model = dict(
    student=dict(network=dict(num_classes=num_classes)),
    data_preprocessor={{_base_.data_preprocessor}})
