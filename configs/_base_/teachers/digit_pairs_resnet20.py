# The digit-pairs teacher resnet20, trained by
#   python tools/train.py configs/teachers/digit_pairs_resnet20.py
# and copied to this path (configs/sweeps/digit_pairs_study.py says how).
# A distillation config takes it as a second base and hands it to its model:
#   model = dict(teacher=_base_.teacher, teacher_ckpt=_base_.teacher_ckpt)
teacher = dict(type='resnet20', num_classes=100)
teacher_ckpt = 'checkpoints/digit_pairs_resnet20.pth'
