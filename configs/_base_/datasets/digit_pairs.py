# Digit pairs (dhkd_det.datasets.digit_pairs): 100 classes "00"-"99", a
# handwritten digit on each side of a 32x32 canvas, written in CIFAR-100's
# layout under data_root by
#   python -c "from dhkd_det.datasets import digit_pairs_as_cifar; \
#              digit_pairs_as_cifar('data/digit_pairs')"
# The CIFAR-100 data base with this folder, no md5 check or download (not
# the official files), no flips (a mirrored number is not that number) and
# no loader workers: the set is 15 MB in memory and a worker process costs
# more than it saves on a small CPU machine.
_base_ = 'cifar100.py'
data_root = 'data/digit_pairs'
_dataset = dict(data_root=data_root, download=False, check_md5=False)
train_dataloader = dict(num_workers=0, persistent_workers=False,
                        dataset=_dataset)
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=_dataset)
test_dataloader = val_dataloader
data_preprocessor = dict(flip=False)
