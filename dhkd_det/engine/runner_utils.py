"""What tools/train.py and tools/test.py share: loading a config with
checked ``--cfg-options``, the checks that need nothing built, and building
MMEngine's runner."""
import difflib
import inspect
import logging
import os
import os.path as osp
from typing import Optional, Sequence

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.device import get_device
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS, MODELS, RUNNERS
from mmengine.runner import Runner

from .coco_audit import audit_coco_datasets
from .data_root_check import check_data_roots
from .quiet import not_deprecation_notice

# what torchrun sets for each process it starts
_TORCHRUN_ENV = ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')


def check_cfg_options(cfg: Config, options: dict) -> None:
    """Reject an override whose key is not in the config but is one typo away
    from a key that is (``model.teacher_ckp`` for ``model.teacher_ckpt``),
    and a new key under ``model`` that is not an argument of the module
    type it would be passed to; genuinely new keys (arguments left at their
    defaults) pass."""
    tree = cfg.to_dict()
    for full_key in options:
        parent, _, leaf = full_key.rpartition('.')
        node = tree
        parts = parent.split('.') if parent else []
        for i, part in enumerate(parts):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and \
                    int(part) < len(node):
                node = node[int(part)]
            else:
                close = difflib.get_close_matches(
                    part, list(node) if isinstance(node, dict) else [], 1,
                    0.8)
                if close:
                    raise KeyError(
                        f'--cfg-options {full_key}: the config has no '
                        f'{part!r}; did you mean {close[0]!r}?')
                _check_argument(cfg, full_key, '.'.join(parts[:i]), node,
                                part)
                break
        else:
            if isinstance(node, dict) and leaf not in node:
                close = difflib.get_close_matches(leaf, list(node), 1, 0.8)
                if close:
                    where = parent or 'the top level'
                    raise KeyError(
                        f'--cfg-options {full_key}: {where} has no key '
                        f'{leaf!r}; did you mean {close[0]!r}?')
                _check_argument(cfg, full_key, parent, node, leaf)


def _check_argument(cfg: Config, full_key: str, where: str, node,
                    name: str) -> None:
    """A new key ``name`` in a model config ``node`` of a registered type
    must be an argument of that type (else the build fails with "unexpected
    keyword argument" and no list of the valid ones)."""
    if not full_key.startswith('model.') or not isinstance(node, dict):
        return
    cls = node.get('type')
    if isinstance(cls, str):
        # the registry the Runner builds from: the default scope's
        with MODELS.switch_scope_and_registry(
                cfg.get('default_scope')) as registry:
            cls = registry.get(cls)
    if not callable(cls):  # a class or a registered factory function
        return
    params = inspect.signature(cls).parameters
    if name in params or any(p.kind == p.VAR_KEYWORD
                             for p in params.values()):
        return
    valid = [n for n, p in params.items()
             if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    raise KeyError(
        f'--cfg-options {full_key}: {name!r} is not an argument of {where} '
        f'({cls.__name__}); its arguments are {", ".join(valid)}')


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for CPU processes: MMEngine passes the
    local rank as ``device_ids`` to every DDP wrapper it builds, which DDP
    rejects for a module on the CPU, so it is dropped here."""

    def __init__(self, module, device_ids=None, **kwargs):
        super().__init__(module=module, device_ids=None, **kwargs)


def load_config(path: str, cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                launcher: str = 'none') -> Config:
    if not osp.isfile(path):
        raise FileNotFoundError(f'config {path!r} not found')
    cfg = Config.fromfile(path)
    if cfg_options:
        check_cfg_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
        epochs_to_iters(cfg)
    cfg.launcher = launcher
    missing_env = [k for k in _TORCHRUN_ENV if k not in os.environ]
    if launcher == 'pytorch' and missing_env:
        raise RuntimeError(
            f'--launcher pytorch needs the environment torchrun gives each '
            f'process ({", ".join(missing_env)} not set): start it with '
            'bash tools/dist_train.sh CONFIG NUM_GPUS [args] (or '
            'tools/dist_test.sh CONFIG CHECKPOINT NUM_GPUS), or drop '
            '--launcher to run one process.')
    if launcher != 'none' and not torch.cuda.is_available():
        # NCCL needs GPUs; CPU processes talk over gloo, and DDP must not
        # be given device ids.
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        cfg.env_cfg.dist_cfg.backend = 'gloo'
        wrapper = dict(cfg.get('model_wrapper_cfg') or {})
        if wrapper.get('type', 'MMDistributedDataParallel') == \
                'MMDistributedDataParallel':
            wrapper['type'] = 'CPUDistributedDataParallel'
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


def check_data(cfg: Config, loaders: Sequence[str]) -> None:
    """The data checks that need nothing built, for the data sets of
    ``loaders`` (e.g. ``('train_dataloader', 'val_dataloader')``): data
    roots that do not exist, then COCO annotation files and images."""
    check_data_roots(cfg, loaders)
    audit_coco_datasets(cfg, loaders)


def init_cpu_process_group(cfg: Config) -> None:
    """Under ``--launcher pytorch`` on a machine without CUDA, start the
    gloo process group before the runner is built: MMEngine's ``init_dist``
    calls ``torch.cuda.set_device``, which fails there, and reuses a group
    that exists already.  Elsewhere it does nothing."""
    if cfg.get('launcher', 'none') == 'pytorch' and \
            not torch.cuda.is_available() and not dist.is_initialized():
        dist.init_process_group(backend='gloo')


def build_runner(cfg: Config) -> Runner:
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def train_in_process(config: str, options: dict, work_dir: str, name: str,
                     hooks: Sequence[dict] = ()) -> Config:
    """Trains ``config`` with ``options`` in this process, ``hooks`` added to
    its custom_hooks and MMEngine's deprecation notices kept off the
    console; returns the merged config.

    Several runs may follow each other in one process (the demos): ``name``,
    unique among them, names each run's logger and visualizer instances.
    MMEngine hands a Runner the existing instance of a name, and by default
    the name is the start second (or MMDetection's fixed 'visualizer'), so
    a later run would write its scalars into an earlier run's work dir.
    """
    cfg = load_config(config, options, work_dir)
    cfg.experiment_name = name.replace(' ', '_')
    if cfg.get('visualizer'):
        cfg.visualizer.pop('name', None)  # then it takes the run's name
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + list(hooks)
    runner = build_runner(cfg)
    runner.logger.addFilter(not_deprecation_notice)
    runner.train()
    return cfg


def close_distributed() -> None:
    """Tear the process group down before the interpreter exits: gloo's
    threads still alive at exit abort the process ('terminate called without
    an active exception') after an otherwise good run."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
