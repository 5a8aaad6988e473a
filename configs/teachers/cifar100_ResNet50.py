_base_ = '../_base_/cifar100_teacher.py'
model = dict(student=dict(network=dict(type='ResNet50')))
