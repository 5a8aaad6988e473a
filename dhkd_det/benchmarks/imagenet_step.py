"""How many images/s the ImageNet DHKD step consumes
(configs/dhkd/imagenet_r34_r18.py: ResNet34 teacher forward, ResNet18
student forward and backward, SGD step): the rate the training input must
reach to keep the device busy."""
import os.path as osp
import time

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS

from ..utils.paths import CONFIG_ROOT
from .timers import synchronize

R34_R18_CONFIG = osp.join(CONFIG_ROOT, 'configs/dhkd/imagenet_r34_r18.py')


def distill_step_rate(device: str, batch: int, size: int, iters: int,
                      warmup: int) -> float:
    """Images/s of ``ClsDistiller.train_step`` of the R34 -> R18 config's
    model and optimizer (random init, float32 as the config ships) on
    random decoded uint8 batches of ``size`` x ``size`` held on the host,
    as a loader hands them over; ``iters`` timed steps after ``warmup``."""
    cfg = Config.fromfile(R34_R18_CONFIG)
    distiller = MODELS.build(cfg.model).to(device).train()
    distiller.teacher_loaded = True  # random weights: nothing to load
    optim_wrapper = build_optim_wrapper(distiller, cfg.optim_wrapper)
    num_classes = cfg.model.student.network.num_classes
    generator = torch.Generator().manual_seed(0)
    data = dict(
        inputs=torch.randint(0, 256, (batch, 3, size, size),
                             dtype=torch.uint8, generator=generator),
        data_samples=torch.randint(0, num_classes, (batch, ),
                                   generator=generator))
    for _ in range(warmup):
        distiller.train_step(data, optim_wrapper)
    synchronize(device)
    start = time.perf_counter()
    for _ in range(iters):
        distiller.train_step(data, optim_wrapper)
    synchronize(device)
    return batch * iters / (time.perf_counter() - start)
