_dataset = dict(check_md5=False, data_root='data/digit_pairs', download=False)
auto_scale_lr = dict(base_batch_size=64, enable=False)
custom_hooks = [
    dict(type='LossGuardHook'),
    dict(type='ScheduleResumeHook'),
    dict(type='PreemptionHook'),
    dict(type='RngStateHook'),
]
custom_imports = dict(
    allow_failed_imports=False, imports=[
        'dhkd_det',
    ])
data_preprocessor = dict(
    flip=False,
    mean=(
        0.5071,
        0.4867,
        0.4408,
    ),
    pad_crop=4,
    std=(
        0.2675,
        0.2565,
        0.2761,
    ),
    type='ClsDataPreprocessor')
data_root = 'data/digit_pairs'
default_hooks = dict(
    checkpoint=dict(
        interval=10,
        max_keep_ckpts=3,
        rule='greater',
        save_best='top1',
        type='AtomicCheckpointHook'),
    curves=dict(type='PlotCurvesHook'),
    logger=dict(interval=50, type='LoggerHook'),
    param_scheduler=dict(type='ParamSchedulerHook'),
    runtime_info=dict(type='DeferredRuntimeInfoHook'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    timer=dict(type='IterTimerHook'))
env_cfg = dict(
    cudnn_benchmark=True,
    dist_cfg=dict(backend='nccl'),
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
launcher = 'none'
load_from = None
log_level = 'INFO'
log_processor = dict(by_epoch=True, type='LogProcessor', window_size=50)
model = dict(
    data_preprocessor=dict(
        flip=False,
        mean=(
            0.5071,
            0.4867,
            0.4408,
        ),
        pad_crop=4,
        std=(
            0.2675,
            0.2565,
            0.2761,
        ),
        type='ClsDataPreprocessor'),
    student=dict(
        aux_head=None,
        network=dict(num_classes=100, type='resnet20'),
        type='DualHeadClassifier'),
    type='ImageClassifier')
optim_wrapper = dict(
    optimizer=dict(lr=0.05, momentum=0.9, type='SGD', weight_decay=0.0005),
    type='OptimWrapper')
param_scheduler = dict(
    by_epoch=True, gamma=0.1, milestones=[
        18,
        22,
        26,
    ], type='MultiStepLR')
randomness = dict(deterministic=False, seed=None)
resume = False
test_cfg = dict(type='TestLoop')
test_dataloader = dict(
    batch_size=256,
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        check_md5=False,
        data_root='data/digit_pairs',
        download=False,
        split='test',
        type='CIFAR100'),
    num_workers=0,
    persistent_workers=False,
    sampler=dict(shuffle=False, type='DefaultSampler'))
test_evaluator = dict(
    topk=(
        1,
        5,
    ), type='ClsAccuracy')
train_cfg = dict(max_epochs=30, type='EpochBasedTrainLoop', val_interval=1)
train_dataloader = dict(
    batch_size=64,
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        check_md5=False,
        data_root='data/digit_pairs',
        download=False,
        split='train',
        type='CIFAR100'),
    num_workers=0,
    persistent_workers=False,
    sampler=dict(shuffle=True, type='DefaultSampler'))
val_cfg = dict(type='ValLoop')
val_dataloader = dict(
    batch_size=256,
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        check_md5=False,
        data_root='data/digit_pairs',
        download=False,
        split='test',
        type='CIFAR100'),
    num_workers=0,
    persistent_workers=False,
    sampler=dict(shuffle=False, type='DefaultSampler'))
val_evaluator = dict(
    topk=(
        1,
        5,
    ), type='ClsAccuracy')
vis_backends = [
    dict(type='LocalVisBackend'),
]
visualizer = dict(
    type='Visualizer', vis_backends=[
        dict(type='LocalVisBackend'),
    ])
work_dir = './work_dirs/digit_pairs_resnet20'
