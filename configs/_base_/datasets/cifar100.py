# CIFAR-100 in the standard `cifar-100-python/` pickle layout under data_root.
# Crop (32, padding 4) and flip run batched in the data preprocessor.
#
# On a GPU the training set can live on the GPU (150 MB as uint8): each batch
# is then one gather there, with no worker processes, no per-sample Python
# and no host-to-device copy. Switch it on with
#   train_dataloader = dict(num_workers=0, persistent_workers=False,
#                           collate_fn=dict(type='pass_through_collate'),
#                           dataset=dict(device='cuda'))
# (all four keys: the data must be read in the main process, and the data set
# returns the collated batch).
data_root = 'data/cifar100'
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CIFAR100', data_root=data_root, split='train'))
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CIFAR100', data_root=data_root, split='test'))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClsAccuracy', topk=(1, 5))
test_evaluator = val_evaluator
data_preprocessor = dict(
    type='ClsDataPreprocessor',
    mean=(0.5071, 0.4867, 0.4408),
    std=(0.2675, 0.2565, 0.2761),
    pad_crop=4,
    flip=True)
