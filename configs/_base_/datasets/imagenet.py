# ImageNet in the usual train/<wnid>/*.JPEG, val/<wnid>/*.JPEG layout.
# RandomResizedCrop / Resize+CenterCrop per sample; flip and normalisation
# batched in the data preprocessor.
data_root = 'data/imagenet'
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageNet', data_root=data_root, split='train'))
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageNet', data_root=data_root, split='val'))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClsAccuracy', topk=(1, 5))
test_evaluator = val_evaluator
data_preprocessor = dict(
    type='ClsDataPreprocessor',
    mean=(0.485, 0.456, 0.406),
    std=(0.229, 0.224, 0.225),
    pad_crop=0,
    flip=True)
