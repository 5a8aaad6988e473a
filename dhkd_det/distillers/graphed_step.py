"""The whole training step as one CUDA graph (opt-in: ``model.cuda_graph=
True``, or ``tools/train.py --cuda-graph``).

The small CIFAR networks are bound by kernel launches, not arithmetic: one
DHKD resnet32x4 -> resnet8x4 step is a few hundred kernels of microseconds
each.  Captured once and replayed, the augmentation, the teacher's and the
student's forward, the losses, the backward pass(es) (both, and the
projection, under gradient alignment) and the optimizer update cost one
launch.

What makes the step capturable:

- the batch is copied into static input buffers (``copy_``, no host sync);
  a batch of another shape (a last partial batch: set
  ``train_dataloader.drop_last=True`` to have none) runs the ordinary
  eager step instead, on the same weights and optimizer state;
- the gradients are taken with ``torch.autograd.grad`` (gradient alignment:
  ``GradAlignOptimWrapper.aligned_grads``, the same code as its eager step)
  and handed to torch's fused SGD with the learning rate of each parameter
  group as a one-element device tensor, refilled from the group's value
  (which MMEngine's schedulers set as usual) before every step: the
  schedule needs no re-capture;
- the random numbers of the augmentation come from the device's default
  generator, which CUDA graphs advance on every replay;
- what the step reads from Python at capture time (the distillation scale,
  whether agreement is logged, the optimizer's momentum and weight decay,
  the batch's shape) is its *signature*: when it changes (DKD's warm-up
  changes the scale once an epoch) the step is captured again.

Iterations on which a grad observer is registered (``GradDiagnosticsHook``
measures every N iterations) run the eager step, which calls it.

Without a CUDA device the same step runs uncaptured (the equality tests run
it on CPU); under DDP, with gradient accumulation, gradient clipping,
float16 loss scaling or an optimizer other than SGD, it is refused with the
reason at the first step.
"""
import contextlib
from typing import Dict, List, Optional, Tuple

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from torch import Tensor
from torch.optim.sgd import sgd

from ..optim.bf16 import BF16OptimWrapper
from ..optim.grad_align import GradAlignOptimWrapper

#: the optimizer wrappers the captured step reproduces
SUPPORTED_WRAPPERS = (OptimWrapper, BF16OptimWrapper, GradAlignOptimWrapper)
#: eager steps before the first capture: cuDNN picks its algorithms, the
#: momentum buffers and the allocator's blocks come into being
WARMUP_STEPS = 3
#: captures after which the run warns that the signature keeps changing
MANY_CAPTURES = 25


class GraphedTrainStep:
    """The training step of ``distiller`` captured as a CUDA graph and
    replayed (see the module's docstring).

    ``accepts(data, runner_model)`` says whether this batch can take the
    captured step; ``__call__(data, optim_wrapper)`` runs it and returns the
    log dict of ``BaseDistiller.train_step`` (values on the device).
    """

    def __init__(self, distiller: nn.Module, warmup: int = WARMUP_STEPS):
        self.distiller = distiller
        self.warmup = warmup
        self._checked_wrapper: Optional[OptimWrapper] = None
        self._inputs: Optional[Tensor] = None
        self._labels: Optional[Tensor] = None
        self._lrs: List[Tensor] = []
        self._lr_values: List[Optional[float]] = []
        self._graph = None
        self._pool = None
        self._signature = None
        self._warm = 0
        self._captures = 0
        self._outputs: Optional[Tuple[List[str], Tensor]] = None
        self._told_uncaptured = False

    @property
    def captures(self) -> int:
        """How many times the step was captured (0 without CUDA)."""
        return self._captures

    @property
    def batch_shape(self) -> Optional[Tuple[int, ...]]:
        """The input shape of the batches this step takes (None before the
        first): batches of another shape take the eager step."""
        return None if self._inputs is None else tuple(self._inputs.shape)

    # ----- which batches -------------------------------------------------
    def accepts(self, data: dict, runner_model: Optional[nn.Module]) -> bool:
        """Whether this step can run the batch: collated tensors of the
        captured shape (any shape before the first), no grad observer."""
        if runner_model is not None and dist.is_available() and \
                dist.is_initialized() and dist.get_world_size() > 1:
            raise RuntimeError(
                'model.cuda_graph=True runs in one process; under DDP '
                '(world size > 1) the gradients would have to be reduced '
                'inside the graph. Train without --cuda-graph / '
                'model.cuda_graph, or run one process per seed '
                '(several fit on one GPU: see docs/benchmarks.md)')
        inputs = data.get('inputs') if isinstance(data, dict) else None
        labels = data.get('data_samples') if isinstance(data, dict) else None
        if not (isinstance(inputs, Tensor) and isinstance(labels, Tensor)):
            raise TypeError(
                'model.cuda_graph=True needs batches collated into tensors '
                "(inputs, data_samples): set train_dataloader.collate_fn="
                "dict(type='default_collate') (or 'pass_through_collate' "
                f'with a device data set); got {type(inputs).__name__} '
                f'inputs and {type(labels).__name__} labels')
        if self.distiller._grad_observers:
            return False
        return self._inputs is None or (
            inputs.shape == self._inputs.shape and
            labels.shape == self._labels.shape)

    # ----- the step -------------------------------------------------------
    def __call__(self, data: dict, optim_wrapper: OptimWrapper
                 ) -> Dict[str, Tensor]:
        self._check_wrapper(optim_wrapper)
        device = next(self.distiller.parameters()).device
        self._load(data, device)
        self._refill_lrs(optim_wrapper.optimizer, device)
        optim_wrapper._inner_count += 1  # as OptimWrapper.update_params does
        if device.type != 'cuda':
            if not self._told_uncaptured:
                print_log(
                    'model.cuda_graph=True without a CUDA device: the step '
                    'that would be captured runs uncaptured', 'current')
                self._told_uncaptured = True
            return self._log_vars(self._static_step(optim_wrapper))
        signature = self._signature_of(optim_wrapper)
        if signature != self._signature:
            self._graph, self._signature = None, signature
            if self._captures:
                # one eager step meets any new kernel (e.g. the teacher's,
                # when the scale leaves 0) before the next capture
                self._warm = min(self._warm, self.warmup - 1)
        if self._graph is None and self._warm < self.warmup:
            self._warm += 1
            return self._log_vars(self._side_stream_step(optim_wrapper))
        if self._graph is None:
            self._capture(optim_wrapper)
        self._graph.replay()
        return self._log_vars(self._outputs)

    def _static_step(self, optim_wrapper: OptimWrapper
                     ) -> Tuple[List[str], Tensor]:
        """The step on the static buffers: preprocessing, both forwards,
        the losses, the gradients and the SGD update; returns the log keys
        and their values stacked in one tensor (one copy to keep them)."""
        model = self.distiller
        with self._precision(optim_wrapper):
            data = model.data_preprocessor(
                dict(inputs=self._inputs, data_samples=self._labels), True)
            split = model.loss_split(data['inputs'], data['data_samples'])
        total, log_vars = model.parse_losses(split.merged())
        optimizer = optim_wrapper.optimizer
        params = [p for group in optimizer.param_groups
                  for p in group['params'] if p.requires_grad]
        if isinstance(optim_wrapper, GradAlignOptimWrapper):
            task, distill = model.loss_totals(split)
            grads = optim_wrapper.aligned_grads(task, distill, params)
        else:
            grads = torch.autograd.grad(total, params, allow_unused=True)
        by_param = dict(zip(params, grads))
        for group, lr in zip(optimizer.param_groups, self._lrs):
            self._sgd_update(optimizer, group, lr, by_param)
        keys = list(log_vars)
        return keys, torch.stack([log_vars[k].detach().float().reshape(())
                                  for k in keys])

    @staticmethod
    def _sgd_update(optimizer: torch.optim.Optimizer, group: dict, lr: Tensor,
                    by_param: Dict[Tensor, Optional[Tensor]]) -> None:
        """torch's fused SGD on the group's parameters that have a gradient
        (as ``SGD.step`` skips the others), its momentum buffers kept in
        the optimizer's state, so that checkpoints and eager steps see
        them."""
        params = [p for p in group['params']
                  if by_param.get(p) is not None]
        if not params:
            return
        states = [optimizer.state[p] for p in params]
        buffers = [s.get('momentum_buffer') for s in states]
        sgd(params, [by_param[p] for p in params], buffers,
            weight_decay=group['weight_decay'], momentum=group['momentum'],
            lr=lr, dampening=group['dampening'], nesterov=group['nesterov'],
            maximize=group['maximize'], has_sparse_grad=False, fused=True)
        if group['momentum'] != 0:
            for state, buf in zip(states, buffers):
                state['momentum_buffer'] = buf

    def _side_stream_step(self, optim_wrapper):
        """A warm-up step on a side stream, as CUDA graphs want them."""
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            out = self._static_step(optim_wrapper)
        torch.cuda.current_stream().wait_stream(stream)
        return out

    def _capture(self, optim_wrapper: OptimWrapper) -> None:
        graph = torch.cuda.CUDAGraph()
        if self._pool is None:
            self._pool = torch.cuda.graph_pool_handle()
        # thread_local: the DataLoader's pin-memory thread may allocate
        # pinned memory meanwhile, which "global" would count as an error
        with torch.cuda.graph(graph, pool=self._pool,
                              capture_error_mode='thread_local'):
            self._outputs = self._static_step(optim_wrapper)
        self._graph = graph
        self._captures += 1
        if self._captures == MANY_CAPTURES:
            print_log(
                f'model.cuda_graph: the step was captured {MANY_CAPTURES} '
                'times, once per change of the distillation scale or of the '
                'optimizer settings (e.g. DistillScheduleHook with '
                'warmup_iters changes the scale every iteration); use '
                'warmup_epochs, or train without cuda_graph', 'current',
                level=30)

    # ----- around the step -----------------------------------------------
    def _load(self, data: dict, device: torch.device) -> None:
        """Copy the batch into the static buffers (made at the first)."""
        inputs, labels = data['inputs'], data['data_samples']
        if self._inputs is None:
            self._inputs = torch.empty(inputs.shape, dtype=inputs.dtype,
                                       device=device)
            self._labels = torch.empty(labels.shape, dtype=torch.long,
                                       device=device)
        self._inputs.copy_(inputs, non_blocking=True)
        self._labels.copy_(labels, non_blocking=True)

    def _refill_lrs(self, optimizer: torch.optim.Optimizer,
                    device: torch.device) -> None:
        """One device tensor per parameter group holding its learning
        rate, refilled (a kernel, not a sync) when the schedule moved it."""
        groups = optimizer.param_groups
        if len(self._lrs) != len(groups):
            self._lrs = [torch.zeros((), device=device) for _ in groups]
            self._lr_values = [None] * len(groups)
        for i, group in enumerate(groups):
            lr = group['lr']
            if isinstance(lr, Tensor):
                raise TypeError(
                    'model.cuda_graph=True keeps the learning rate of each '
                    'parameter group a Python float (the schedulers set it, '
                    'the step reads it into a device tensor); got a tensor '
                    'in optim_wrapper.optimizer.lr')
            if lr != self._lr_values[i]:
                self._lrs[i].fill_(lr)
                self._lr_values[i] = lr

    def _signature_of(self, optim_wrapper: OptimWrapper) -> tuple:
        """What the captured step took from Python."""
        model = self.distiller
        groups = tuple(
            (g['momentum'], g['weight_decay'], g['dampening'], g['nesterov'],
             g['maximize'], len(g['params']))
            for g in optim_wrapper.optimizer.param_groups)
        return (float(model.distill_scale), bool(model.log_agreement),
                tuple(self._inputs.shape), self._inputs.dtype, groups,
                model.training)

    def _precision(self, optim_wrapper: OptimWrapper):
        """bfloat16 autocast where the wrapper asks for it; its weight cache
        off, as capture requires."""
        bf16 = isinstance(optim_wrapper, BF16OptimWrapper) or (
            isinstance(optim_wrapper, GradAlignOptimWrapper) and
            optim_wrapper.bf16)
        if not bf16:
            return contextlib.nullcontext()
        device_type = self._inputs.device.type
        return torch.autocast(device_type=device_type, dtype=torch.bfloat16,
                              cache_enabled=False)

    @staticmethod
    def _log_vars(out: Tuple[List[str], Tensor]) -> Dict[str, Tensor]:
        """The log dict of this step, in tensors the next replay does not
        overwrite."""
        keys, values = out
        return dict(zip(keys, values.clone().unbind()))

    def _check_wrapper(self, optim_wrapper: OptimWrapper) -> None:
        if optim_wrapper is self._checked_wrapper:
            return
        why = None
        if type(optim_wrapper) not in SUPPORTED_WRAPPERS:
            why = (f'optim_wrapper type {type(optim_wrapper).__name__} (the '
                   'captured step reproduces OptimWrapper, BF16OptimWrapper '
                   'and GradAlignOptimWrapper; float16 needs loss scaling, '
                   'which reads a flag to the host every step: use bfloat16)')
        elif type(optim_wrapper.optimizer) is not torch.optim.SGD:
            why = (f'optimizer {type(optim_wrapper.optimizer).__name__} (the '
                   'captured step updates with fused SGD, the CIFAR and '
                   'ImageNet recipes\' optimizer)')
        elif optim_wrapper._accumulative_counts != 1:
            why = ('gradient accumulation (optim_wrapper.accumulative_counts'
                   f'={optim_wrapper._accumulative_counts})')
        elif optim_wrapper.clip_grad_kwargs:
            why = 'gradient clipping (optim_wrapper.clip_grad)'
        if why is not None:
            raise ValueError(
                f'model.cuda_graph=True does not support {why}. Remove '
                'model.cuda_graph (tools/train.py --cuda-graph), or change '
                'the optimizer settings.')
        self._checked_wrapper = optim_wrapper
