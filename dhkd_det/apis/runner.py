"""Building and running MMEngine's runner, the one way every tool, demo and
experiment starts a run: ``build_runner`` for a loaded config,
``train_in_process`` for a config file run to the end in this process."""
from typing import Sequence

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..utils.quiet import not_deprecation_notice
from .config import load_config


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
