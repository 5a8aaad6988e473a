# The digit-pairs study recipe: the CIFAR-100 recipe (SGD 0.05, momentum
# 0.9, weight decay 5e-4, batch 64, x0.1 at 150/180/210 of 240 epochs)
# shrunk to 15 epochs, the milestones at the same fractions; validation
# every epoch, so that each run's curve is complete.
_base_ = 'cifar100_240e.py'
param_scheduler = dict(milestones=[9, 11, 13])
train_cfg = dict(max_epochs=15, val_interval=1)
