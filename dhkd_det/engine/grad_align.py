"""Gradient alignment (DHKD's ``--ga``) as an MMEngine optimizer wrapper.

PCGrad-style, with the reference semantics: the task gradient g_ce and the
distillation gradient g_kd are each flattened over ALL optimised student
parameters (zeros where a loss does not reach); when g_kd . g_ce < 0 only the
distillation gradient is projected, g_kd <- g_kd - (g_kd.g_ce/|g_ce|^2) g_ce;
the update uses g_ce + g_kd.
"""
from contextlib import contextmanager, nullcontext
from typing import List, Optional, Tuple, Union

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

from .bf16 import bf16_autocast


def project_conflicting(g_task: torch.Tensor,
                        g_distill: torch.Tensor) -> torch.Tensor:
    """The distillation gradient with its component against ``g_task``
    removed when the two conflict (negative dot product).

    Branch-free, so the step never waits for the GPU to report the sign:
    the coefficient is min(dot, 0) / |g_task|^2, exactly 0 when the
    gradients agree, which leaves ``g_distill`` bit for bit unchanged.
    """
    dot = torch.dot(g_distill, g_task)
    coef = dot.clamp_max(0) / torch.dot(g_task, g_task).clamp_min(1e-20)
    return g_distill - coef * g_task


@OPTIM_WRAPPERS.register_module()
class GradAlignOptimWrapper(OptimWrapper):
    """Drop-in for ``OptimWrapper``: ``optim_wrapper=dict(type=
    'GradAlignOptimWrapper', optimizer=...)``.

    Needs a ``dhkd_det`` distiller, whose ``parse_losses`` attaches the
    (task, distillation) split to the total loss.  Under DDP the two
    gradients are averaged across processes before the projection, which is
    what a single process with the whole batch would compute.

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

    @contextmanager
    def optim_context(self, model: nn.Module):
        # Gradients are reduced here, not by DDP's backward hooks.
        with model.no_sync() if hasattr(model, 'no_sync') else nullcontext(), \
                bf16_autocast(model) if self.bf16 else nullcontext():
            yield

    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        scaled = super().scale_loss(loss)
        parts = getattr(loss, 'grad_align_parts', None)
        if parts is not None:
            scaled.grad_align_parts = tuple(
                super(GradAlignOptimWrapper, self).scale_loss(p)
                for p in parts)
        return scaled

    def _params(self) -> List[torch.Tensor]:
        return [p for group in self.optimizer.param_groups
                for p in group['params'] if p.requires_grad]

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        parts: Optional[Tuple[torch.Tensor, torch.Tensor]] = getattr(
            loss, 'grad_align_parts', None)
        if parts is None:
            raise TypeError(
                'GradAlignOptimWrapper needs the (task, distillation) loss '
                'split that dhkd_det distillers attach in parse_losses; use '
                "it with a dhkd_det distiller or use type='OptimWrapper'")
        params = self._params()
        g_task = self._flat_grad(parts[0], params, retain_graph=True)
        g_distill = self._flat_grad(parts[1], params, retain_graph=False)
        if dist.is_available() and dist.is_initialized() and \
                dist.get_world_size() > 1:
            both = torch.stack([g_task, g_distill])
            dist.all_reduce(both)
            both /= dist.get_world_size()
            g_task, g_distill = both[0], both[1]
        grad = g_task + project_conflicting(g_task, g_distill)
        offset = 0
        for p in params:
            g = grad[offset:offset + p.numel()].view_as(p)
            offset += p.numel()
            if p.grad is None:
                p.grad = g.clone()
            else:
                p.grad.add_(g)
        self._inner_count += 1

    @staticmethod
    def _flat_grad(loss: torch.Tensor, params: List[torch.Tensor],
                   retain_graph: bool) -> torch.Tensor:
        if not loss.requires_grad:
            return torch.cat([torch.zeros_like(p).reshape(-1) for p in params])
        grads = torch.autograd.grad(loss, params, retain_graph=retain_graph,
                                    allow_unused=True)
        return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1)
                          for p, g in zip(params, grads)])
