default_hooks = dict(
    # MMEngine's RuntimeInfoHook, reading the logged losses to the host at
    # the logger's interval instead of every iteration
    runtime_info=dict(type='DeferredRuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # written atomically, old ones deleted only after the new one is on disk
    checkpoint=dict(type='AtomicCheckpointHook', interval=10,
                    max_keep_ckpts=3, save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # work_dir/plots/*.png at every validation, at the end and when a run
    # stops early (preempted, crashed)
    curves=dict(type='PlotCurvesHook'),
)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
# scalars.json (read by tools/analysis/ and the PNG curves) and, where
# TensorBoard is installed, its event files: tensorboard --logdir WORK_DIR
vis_backends = [dict(type='LocalVisBackend'),
                dict(type='OptionalTensorboardVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_level = 'INFO'
# MMEngine's Runner with this project's guarantees (checks before anything
# is built, the work dir's lock, stopping on SIGTERM / SIGUSR1 with a
# checkpoint, exact resume), under any script that builds the runner a
# config names, MMDetection's and MMEngine's own included
runner_type = 'DHKDRunner'
custom_imports = dict(imports=['dhkd_det'], allow_failed_imports=False)
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)
# stop on a NaN / exploding loss before it is saved.  A config adds its own
# hooks to its base's list, never restating it:
#   custom_hooks = _base_.custom_hooks + [dict(type='MyHook')]
custom_hooks = [dict(type='LossGuardHook')]
