# A sweep small enough for a CPU (the tests run it): one resnet8 -> resnet8
# pair on scikit-learn's digits written as CIFAR, three methods, two seeds,
# two epochs.  It expects, relative to the working directory, the digits in
# data/digits and a teacher in checkpoints/digits_resnet8.pth:
#   python -c "from dhkd_det.datasets import digits_as_cifar; \
#              digits_as_cifar('data/digits')"
#   (a teacher: docs/reproducing.md, "The smoke sweep")
#   python tools/reproduce.py configs/sweeps/digits_smoke.py
pairs = dict(digits='configs/dhkd/cifar100_res56_res20.py')
methods = ['ce', 'kd', 'dhkd']
seeds = [0, 1]
_data = {}
for _split in ('train', 'val', 'test'):
    _data.update({
        f'{_split}_dataloader.dataset.data_root': 'data/digits',
        f'{_split}_dataloader.dataset.check_md5': False,
        f'{_split}_dataloader.num_workers': 0,
        f'{_split}_dataloader.persistent_workers': False,
    })
cfg_options = {
    **_data,
    'model.student.network.type': 'resnet8',
    'model.student.network.num_classes': 10,
    'model.teacher.type': 'resnet8',
    'model.teacher.num_classes': 10,
    'model.teacher_ckpt': 'checkpoints/digits_resnet8.pth',
    # a mirrored digit is not a digit
    'model.data_preprocessor.flip': False,
    'train_cfg.max_epochs': 2,
    'param_scheduler.milestones': [1],
    'default_hooks.checkpoint.interval': 1,
}
