"""Gradient alignment (DHKD's ``--ga``) as an MMEngine optimizer wrapper.

PCGrad-style, with the reference semantics: the task gradient g_ce and the
distillation gradient g_kd are each flattened over ALL optimised student
parameters (zeros where a loss does not reach); when g_kd . g_ce < 0 only the
distillation gradient is projected, g_kd <- g_kd - (g_kd.g_ce/|g_ce|^2) g_ce;
the update uses g_ce + g_kd.

The wrapper steps on the two losses, never on their sum: the caller hands
them over explicitly, as the reference writes
``optimizer.ga_backward([gamma * loss_cls, alpha * loss_kd])``::

    optim_wrapper.update_params_split(task_loss, distill_loss)

(a dhkd_det distiller's ``train_step`` does for any wrapper offering
``update_params_split``, and ``DistillerDataParallel`` under DDP).
``update_params(loss)`` with the sum alone is refused.
"""
from contextlib import contextmanager, nullcontext
from typing import Dict, List, NamedTuple, Optional, Union

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

from .bf16 import bf16_autocast

def conflict_coef(g_task: torch.Tensor,
                  g_distill: torch.Tensor) -> torch.Tensor:
    """min(g_distill . g_task, 0) / |g_task|^2: the multiple of ``g_task``
    that the projection removes from ``g_distill`` (0 when they agree).

    Branch-free, so the step never waits for the GPU to report the sign.
    """
    dot = torch.dot(g_distill, g_task)
    return dot.clamp_max(0) / torch.dot(g_task, g_task).clamp_min(1e-20)


def project_conflicting(g_task: torch.Tensor,
                        g_distill: torch.Tensor) -> torch.Tensor:
    """The distillation gradient with its component against ``g_task``
    removed when the two conflict (negative dot product); bit for bit
    ``g_distill`` when they agree (the coefficient is exactly 0)."""
    return g_distill - conflict_coef(g_task, g_distill) * g_task


class GradAlignStats(NamedTuple):
    """What ``GradAlignOptimWrapper.read_stats`` returns: over the ``steps``
    backward passes since the last read, ``projected`` (a count) of them
    projected the distillation gradient, by a mean relative change
    ``mean_rel_change`` = mean |g_kd' - g_kd| / |g_kd| (0 for a step that
    did not project).  All three are 0-d tensors on the gradients' device
    (counted there, so that a captured step counts too)."""
    steps: torch.Tensor
    projected: torch.Tensor
    mean_rel_change: torch.Tensor


@OPTIM_WRAPPERS.register_module()
class GradAlignOptimWrapper(OptimWrapper):
    """Drop-in for ``OptimWrapper``: ``optim_wrapper=dict(type=
    'GradAlignOptimWrapper', optimizer=...)``, used by a ``dhkd_det``
    distiller (its ``train_step`` calls ``update_params_split``).

    Under DDP the model wrapper must be ``DistillerDataParallel``; the two
    gradients are averaged across processes before the projection, which
    is what a single process with the whole batch would compute.

    For diagnostics (a hook reading the wrapper every N iterations),
    ``read_stats()`` gives running counts kept on the device (see
    ``GradAlignStats``) without waiting for it; reading them resets them,
    and converting them with ``.item()`` is the reader's one host sync.
    (The task and distillation losses themselves reach observers through
    the distiller's ``add_grad_observer``, whatever the wrapper.)

    Args:
        dtype: None (float32) or 'bfloat16': the forward under bfloat16
            autocast, gradients and projection in float32 (see
            ``BF16OptimWrapper``).  float16 is not offered: it needs loss
            scaling, which would have to treat both losses alike.
        Other args: as ``OptimWrapper``.
    """

    def __init__(self, *args, dtype: Union[str, torch.dtype, None] = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        if dtype not in (None, 'bfloat16', torch.bfloat16):
            raise ValueError(
                f'GradAlignOptimWrapper dtype must be None or bfloat16, got '
                f'{dtype!r} (float16 needs loss scaling; use bfloat16)')
        self.bf16 = dtype is not None
        #: (steps, projected, sum of relative changes) since the last read
        self._stats: Optional[torch.Tensor] = None

    @contextmanager
    def optim_context(self, model: nn.Module):
        # Gradients are reduced in backward_split, not by DDP's hooks.
        with model.no_sync() if hasattr(model, 'no_sync') else nullcontext(), \
                bf16_autocast(model) if self.bf16 else nullcontext():
            yield

    def update_params_split(self, task_loss: torch.Tensor,
                            distill_loss: torch.Tensor,
                            step_kwargs: Optional[Dict] = None,
                            zero_kwargs: Optional[Dict] = None) -> None:
        """``update_params`` on the (task, distillation) pair: scaled for
        gradient accumulation like a single loss, aligned, then stepped."""
        self.backward_split(self.scale_loss(task_loss),
                            self.scale_loss(distill_loss))
        if self.should_update():
            self.step(**(step_kwargs or {}))
            self.zero_grad(**(zero_kwargs or {}))

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        raise TypeError(
            'GradAlignOptimWrapper needs the task and the distillation '
            'losses apart, not their sum: call update_params_split(task, '
            "distill), as a dhkd_det distiller's train_step does (under DDP "
            "set model_wrapper_cfg=dict(type='DistillerDataParallel')), or "
            "use type='OptimWrapper'")

    def backward_split(self, task_loss: torch.Tensor,
                       distill_loss: torch.Tensor) -> None:
        """Accumulate g_task + project_conflicting(g_task, g_distill) into
        the parameters' ``.grad``."""
        params = self._params()
        for p, g in zip(params, self.aligned_grads(task_loss, distill_loss,
                                                   params)):
            if p.grad is None:
                p.grad = g.clone()
            else:
                p.grad.add_(g)
        self._inner_count += 1

    def aligned_grads(self, task_loss: torch.Tensor,
                      distill_loss: torch.Tensor,
                      params: Optional[List[torch.Tensor]] = None
                      ) -> List[torch.Tensor]:
        """g_task + project_conflicting(g_task, g_distill), one tensor per
        parameter of ``params`` (default: every optimised one), averaged
        over processes under DDP, counted for ``read_stats``.  No host sync
        and no allocation that outlives the call but the counters: the
        whole-step CUDA graph captures it."""
        params = self._params() if params is None else params
        g_task = self._flat_grad(task_loss, params, retain_graph=True)
        g_distill = self._flat_grad(distill_loss, params, retain_graph=False)
        if dist.is_available() and dist.is_initialized() and \
                dist.get_world_size() > 1:
            both = torch.stack([g_task, g_distill])
            dist.all_reduce(both)
            both /= dist.get_world_size()
            g_task, g_distill = both[0], both[1]
        coef = conflict_coef(g_task, g_distill)
        self._count(coef, g_task, g_distill)
        grad = g_task + (g_distill - coef * g_task)
        return [g.view_as(p) for g, p in
                zip(grad.split([p.numel() for p in params]), params)]

    def read_stats(self) -> GradAlignStats:
        """The counts since the last read (see ``GradAlignStats``), then
        start counting afresh (in place: a captured step keeps adding to
        the same counters)."""
        if self._stats is None:
            zero = torch.zeros(())
            return GradAlignStats(zero, zero.clone(), zero.clone())
        steps, projected, rel_sum = self._stats.clone().unbind()
        self._stats.zero_()
        return GradAlignStats(steps, projected,
                              rel_sum / steps.clamp_min(1))

    def _count(self, coef: torch.Tensor, g_task: torch.Tensor,
               g_distill: torch.Tensor) -> None:
        # |g_kd' - g_kd| = |coef| |g_task|: device-side scalars, no sync
        rel = coef.abs() * g_task.norm() / g_distill.norm().clamp_min(1e-20)
        conflicted = (coef < 0).to(rel.dtype)
        if self._stats is None:
            # made at the first step, before any capture
            self._stats = rel.new_zeros(3)
        self._stats.add_(torch.stack([torch.ones_like(rel), conflicted,
                                      rel]))

    def _params(self) -> List[torch.Tensor]:
        return [p for group in self.optimizer.param_groups
                for p in group['params'] if p.requires_grad]

    @staticmethod
    def _flat_grad(loss: torch.Tensor, params: List[torch.Tensor],
                   retain_graph: bool) -> torch.Tensor:
        if not loss.requires_grad:
            return torch.cat([torch.zeros_like(p).reshape(-1) for p in params])
        grads = torch.autograd.grad(loss, params, retain_graph=retain_graph,
                                    allow_unused=True)
        return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1)
                          for p, g in zip(params, grads)])
