"""The eager training step against the graphed one (``model.cuda_graph``) on
the same batches, schedule and random numbers: the unit tests run it on CPU
(the step uncaptured), the GPU check on the GPU (captured and replayed)."""
from typing import Callable, Dict, List

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import MODELS

from ..optim.bf16 import BF16OptimWrapper
from ..optim.grad_align import GradAlignOptimWrapper
from .distillers import small_cls_distiller_cfg

WRAPPERS = dict(plain=OptimWrapper, ga=GradAlignOptimWrapper,
                bf16=BF16OptimWrapper)


def small_distiller(cuda_graph: bool, device: str = 'cpu',
                    augment: bool = True) -> torch.nn.Module:
    """DHKD resnet8 -> resnet8 (random teacher) on 10 classes, seeded."""
    torch.manual_seed(0)
    model = MODELS.build(small_cls_distiller_cfg(
        distill_losses=dict(aux=dict(type='BinaryKLNormLoss',
                                     temperature=2.0)),
        task_losses=dict(main=dict(type='CELoss')),
        data_preprocessor=dict(type='ClsDataPreprocessor',
                               pad_crop=4 if augment else 0, flip=augment),
        cuda_graph=cuda_graph))
    model.teacher_loaded = True
    return model.to(device)


def random_batches(n: int, size: int = 8, seed: int = 1) -> List[dict]:
    """``n`` collated uint8 CIFAR-shaped batches of 10 classes."""
    g = torch.Generator().manual_seed(seed)
    return [dict(inputs=torch.randint(0, 256, (size, 3, 32, 32), generator=g,
                                      dtype=torch.uint8),
                 data_samples=torch.randint(0, 10, (size, ), generator=g))
            for _ in range(n)]


def sgd_wrapper(model: torch.nn.Module, kind: str) -> OptimWrapper:
    """The CIFAR recipe's SGD in the wrapper ``kind`` (see ``WRAPPERS``)."""
    sgd = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9,
                          weight_decay=5e-4)
    return WRAPPERS[kind](sgd)


def moving_schedule(i: int, model: torch.nn.Module,
                    wrapper: OptimWrapper) -> None:
    """Before step ``i``: the learning rate drops at step 2 (as MultiStepLR
    sets it), the distillation scale moves at 1 and stops at 4 (as
    DistillScheduleHook sets it), agreement is logged from step 3."""
    if i == 2:
        for group in wrapper.optimizer.param_groups:
            group['lr'] = 0.005
    model.distill_scale = {1: 0.5, 4: 0.0}.get(i, model.distill_scale)
    model.log_agreement = i >= 3


def train_steps(model: torch.nn.Module, wrapper: OptimWrapper,
                batches: List[dict],
                schedule: Callable = lambda i, model, wrapper: None
                ) -> List[Dict[str, float]]:
    """``model.train_step`` on each batch, the augmentation's random numbers
    seeded alike per step; ``schedule(i, model, wrapper)`` runs before
    step ``i``.  Returns each step's logged values."""
    model.train()
    logs = []
    for i, batch in enumerate(batches):
        schedule(i, model, wrapper)
        torch.manual_seed(100 + i)
        logs.append({k: float(v.detach())
                     for k, v in model.train_step(batch, wrapper).items()})
    return logs


def compare_steps(kind: str, device: str = 'cpu', steps: int = 6,
                  augment: bool = True) -> dict:
    """Eager and graphed runs of ``steps`` steps under
    ``moving_schedule``: their logs, the largest absolute difference of any
    logged value and of any weight or buffer, and whether the graphed run
    took its own step (not the eager fallback)."""
    batches = random_batches(steps)
    runs = []
    for cuda_graph in (False, True):
        model = small_distiller(cuda_graph, device, augment)
        logs = train_steps(model, sgd_wrapper(model, kind), batches,
                           moving_schedule)
        runs.append((model, logs))
    (eager, eager_logs), (graphed, graphed_logs) = runs
    log_diff = max(abs(a[k] - b[k]) for a, b in zip(eager_logs, graphed_logs)
                   for k in a)
    weight_diff = max(
        float((a.float() - b.float()).abs().max())
        for a, b in zip(eager.state_dict().values(),
                        graphed.state_dict().values()))
    step = graphed.graphed_step
    return dict(eager_logs=eager_logs, graphed_logs=graphed_logs,
                same_keys=[set(a) for a in eager_logs] ==
                [set(b) for b in graphed_logs],
                max_log_diff=log_diff, max_weight_diff=weight_diff,
                graphed=step.batch_shape is not None, captures=step.captures)
