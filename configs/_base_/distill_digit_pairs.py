# The neutral base of the digit-pairs distillation configs: the study recipe
# (schedules/digit_pairs_study.py) on the digit-pairs data on
# distill_cls.py, as distill_cifar100.py is for CIFAR-100.
_base_ = [
    'datasets/digit_pairs.py', 'schedules/digit_pairs_study.py',
    'distill_cls.py'
]
num_classes = 100
model = dict(
    student=dict(network=dict(num_classes=num_classes)),
    data_preprocessor={{_base_.data_preprocessor}})
