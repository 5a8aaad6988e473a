"""Loading a config as the tools do: checked ``--cfg-options``, the
launcher's environment, the work dir, and the ``--amp`` switch."""
import logging
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.logging import print_log
from mmengine.registry import MODELS

from ..checks.cfg_options import check_cfg_options
from .inherited_scope import drop_collate_scopes

# what torchrun sets for each process it starts
_TORCHRUN_ENV = ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
# what srun sets for each task and MMEngine's slurm start reads
_SRUN_ENV = ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST')


def check_launcher(launcher: str) -> None:
    """``--launcher pytorch`` / ``slurm`` started without the environment
    torchrun / srun gives each process: MMEngine would fail with a bare
    ``KeyError: 'RANK'`` / ``'SLURM_PROCID'``."""
    if launcher == 'pytorch':
        missing = [k for k in _TORCHRUN_ENV if k not in os.environ]
        if missing:
            raise RuntimeError(
                f'--launcher pytorch needs the environment torchrun gives '
                f'each process ({", ".join(missing)} not set): start it '
                'with bash tools/dist_train.sh CONFIG NUM_GPUS [args] (or '
                'tools/dist_test.sh CONFIG CHECKPOINT NUM_GPUS), or drop '
                '--launcher to run one process.')
    elif launcher == 'slurm':
        missing = [k for k in _SRUN_ENV if k not in os.environ]
        if missing:
            raise RuntimeError(
                f'--launcher slurm needs the environment srun gives each '
                f'task ({", ".join(missing)} not set): this process was not '
                'started by srun. Start it with GPUS=N bash '
                'tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR (or '
                'tools/slurm_test.sh, or submit tools/slurm_sbatch.sh), or '
                'drop --launcher to run one process (bash '
                'tools/dist_train.sh for several on this machine).')


def load_config(path: str, cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                launcher: str = 'none') -> Config:
    if not osp.isfile(path):
        raise FileNotFoundError(f'config {path!r} not found')
    cfg = Config.fromfile(path)
    drop_collate_scopes(cfg)  # a base inherited by `dhkd_det::` marks it
    if cfg_options:
        check_cfg_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
        epochs_to_iters(cfg)
    cfg.launcher = launcher
    check_launcher(launcher)
    if launcher != 'none' and not torch.cuda.is_available():
        # NCCL needs GPUs; CPU processes talk over gloo, and DDP must not
        # be given device ids.
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        cfg.env_cfg.dist_cfg.backend = 'gloo'
        wrapper = dict(cfg.get('model_wrapper_cfg') or {})
        if wrapper.get('type', 'MMDistributedDataParallel') == \
                'MMDistributedDataParallel':
            wrapper['type'] = 'DistillerDataParallel'
            wrapper.setdefault('broadcast_buffers', False)
            wrapper.setdefault('find_unused_parameters',
                               cfg.get('find_unused_parameters', False))
            cfg.model_wrapper_cfg = wrapper
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    return cfg


def epochs_to_iters(cfg: Config) -> None:
    """``--cfg-options train_cfg.max_iters=N`` on an epoch-based config (all
    of MMDetection's and ours): run N iterations with an iteration-based
    loop, validating and saving at the end, instead of failing on an
    argument the epoch loop does not take.  Epoch-based parameter schedulers
    then do not step (iteration-based warm-ups still do)."""
    train_cfg = cfg.get('train_cfg') or {}
    if train_cfg.get('type') != 'EpochBasedTrainLoop' or \
            'max_iters' not in train_cfg:
        return
    max_iters = int(train_cfg['max_iters'])
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                         val_interval=max_iters)
    hooks = cfg.get('default_hooks') or {}
    if hooks.get('checkpoint'):  # None: checkpointing switched off
        hooks.checkpoint.by_epoch = False
        hooks.checkpoint.interval = max_iters
    if 'log_processor' in cfg:
        cfg.log_processor.by_epoch = False
    print_log(f'train_cfg.max_iters={max_iters}: training with an '
              'IterBasedTrainLoop instead of the epoch-based one',
              'current', logging.WARNING)


def apply_amp(cfg: Config) -> None:
    """``--amp``: switch the optimizer wrapper to mixed precision: float16
    with dynamic loss scaling (MMEngine's ``AmpOptimWrapper``), or bfloat16
    autocast for gradient alignment, whose two gradients a loss scaler would
    have to treat alike (bfloat16 needs no scaling)."""
    if get_device() == 'cpu':
        raise RuntimeError(
            '--amp needs a GPU (or an NPU / MLU / MUSA device), and this '
            'process sees none (torch.cuda.is_available() is False): drop '
            '--amp to train in float32, or check CUDA_VISIBLE_DEVICES and '
            'the driver.')
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper in ('AmpOptimWrapper', 'BF16OptimWrapper'):
        return
    if wrapper == 'OptimWrapper' and cfg.get('model', {}).get('cuda_graph'):
        cfg.optim_wrapper.type = 'BF16OptimWrapper'
        print_log('--amp with --cuda-graph: bfloat16 autocast (float16 loss '
                  'scaling reads a flag to the host every step, which a '
                  'captured step cannot)', 'current')
        return
    if wrapper == 'GradAlignOptimWrapper':
        cfg.optim_wrapper.dtype = 'bfloat16'
        print_log('--amp with gradient alignment: bfloat16 autocast, float32 '
                  'weights and gradients', 'current')
        return
    if wrapper != 'OptimWrapper':
        raise ValueError(
            f'--amp works with optim_wrapper.type OptimWrapper or '
            f'GradAlignOptimWrapper, the config has {wrapper!r}: drop --amp '
            'or set the mixed-precision wrapper in the config')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')


def apply_cuda_graph(cfg: Config) -> None:
    """``--cuda-graph``: ``model.cuda_graph=True``, the training step
    captured as one CUDA graph (``GraphedTrainStep``), for the distillers
    whose batches keep their shapes (classification)."""
    model_type = cfg.model.get('type')
    model_cls = MODELS.get(model_type) if isinstance(model_type, str) \
        else model_type
    if not getattr(model_cls, 'supports_cuda_graph', False):
        raise ValueError(
            f'--cuda-graph: model.type {model_type!r} has no captured '
            'training step (ClsDistiller has: the classification '
            'distillation configs); drop --cuda-graph')
    cfg.model.cuda_graph = True
