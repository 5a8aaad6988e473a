"""The one distiller base: a frozen teacher beside a student, shared by the
classification and the detection distillers.

The teacher is kept out of the module tree on purpose: it is then never in
the optimizer, never in a checkpoint, never put back into train mode by
``model.train()`` and never wrapped by DDP, while device moves (``.to()``,
``.cuda()``, ``.half()``) still reach it through ``_apply``.
"""
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from mmengine.registry import MODELS

from ..engine.grad_align import GradAlignOptimWrapper

from .teacher import build_teacher, load_teacher_checkpoint


class BaseDistiller(BaseModel):
    """Teacher bookkeeping and the split of losses into task / distillation.

    Args:
        teacher: the teacher's model config, a config file path, an
            ``mmdet::`` config name, or None for no teacher (plain training).
        teacher_ckpt: checkpoint path or URL of the teacher; loaded lazily
            (by ``DHKDHook.before_train`` or the first teacher forward), so
            testing a student does not need it.
        distill_losses: ``{head: loss_cfg}`` of the distillation losses, each
            scaled by ``distill_scale`` (set per iteration by ``DHKDHook``).
    """

    def __init__(self,
                 teacher: Union[dict, str, None] = None,
                 teacher_ckpt: Optional[str] = None,
                 distill_losses: Optional[Dict[str, dict]] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        distill_losses = distill_losses or {}
        if distill_losses and teacher is None:
            raise ValueError('model.distill_losses is set but model.teacher '
                             'is None: a distillation loss needs a teacher')
        self.teacher_ckpt = teacher_ckpt
        self.distill_losses = nn.ModuleDict(
            {head: MODELS.build(cfg) for head, cfg in distill_losses.items()})
        #: multiplies every distillation loss (warm-up / stop schedule)
        self.distill_scale = 1.0
        #: log the teacher/student top-1 agreement (set by DHKDHook)
        self.log_agreement = False
        self.teacher_loaded = False
        model = None if teacher is None else build_teacher(teacher)
        if model is not None:
            model.eval().requires_grad_(False)
        object.__setattr__(self, 'teacher', model)

    # ----- the teacher --------------------------------------------------
    def load_teacher(self) -> None:
        """Load ``teacher_ckpt`` once; raises a clear error when it is
        missing or does not fit, then checks teacher/student class counts."""
        if self.teacher is None or self.teacher_loaded:
            return
        load_teacher_checkpoint(self.teacher, self.teacher_ckpt)
        self.teacher.eval()
        self.teacher_loaded = True
        print_log(f'teacher loaded from {self.teacher_ckpt}', 'current')

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        if self.teacher is not None:
            self.teacher._apply(fn, *args, **kwargs)
        return self

    # ----- losses -------------------------------------------------------
    def distill_loss_key(self, head: str) -> str:
        return f'loss_{self.distill_losses[head].log_name}_{head}'

    def scaled_distill_losses(self, student_logits: Dict[str, torch.Tensor],
                              teacher_logits: torch.Tensor,
                              target: Optional[torch.Tensor] = None
                              ) -> Dict[str, torch.Tensor]:
        """Every configured distillation loss, times ``distill_scale``.

        ``student_logits`` maps head names ('main', 'aux') to logits aligned
        with ``teacher_logits``.
        """
        losses = {}
        for head, loss_fn in self.distill_losses.items():
            if student_logits.get(head) is None:
                raise ValueError(
                    f'model.distill_losses has a loss for the {head!r} head '
                    'but the student has no such head (set aux_head in the '
                    'student config, or drop the loss)')
            losses[self.distill_loss_key(head)] = self.distill_scale * loss_fn(
                student_logits[head], teacher_logits, target=target)
        return losses

    def zero_distill_losses(self, student_logits: Dict[str, torch.Tensor]
                            ) -> Dict[str, torch.Tensor]:
        """Distillation switched off (scale 0): no teacher forward, but the
        heads stay in the graph with zero gradient so DDP sees every
        parameter used."""
        return {self.distill_loss_key(head): student_logits[head].sum() * 0.
                for head in self.distill_losses}

    def is_distill_key(self, key: str) -> bool:
        """Whether ``key`` of the loss dict is a distillation loss: the key
        ``distill_loss_key`` gives, or it behind a stage prefix
        ('s1.loss_bkl_aux', as MMDetection's cascade names stage losses)."""
        return key.rsplit('.', 1)[-1] in {
            self.distill_loss_key(h) for h in self.distill_losses}

    def split_losses(self, losses: Dict[str, torch.Tensor]
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The (task, distillation) totals of a loss dict, each summed as
        ``parse_losses`` sums the total (so they add up to it)."""
        task, distill = [], []
        for key, value in losses.items():
            if 'loss' in key:
                value = value.mean() if isinstance(value, torch.Tensor) \
                    else sum(v.mean() for v in value)
                (distill if self.is_distill_key(key) else task).append(value)
        zero = next(iter(task + distill)).new_zeros(())
        return sum(task, zero), sum(distill, zero)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper,
                   runner_model: Optional[nn.Module] = None
                   ) -> Dict[str, torch.Tensor]:
        """MMEngine's step, except that gradient alignment gets the task and
        the distillation losses apart; any other wrapper steps on their
        total.  ``runner_model``: the DDP wrapper of this distiller
        (``DistillerDataParallel``), through which the forward runs."""
        model = self if runner_model is None else runner_model
        with optim_wrapper.optim_context(model):
            data = self.data_preprocessor(data, True)
            losses = model._run_forward(data, mode='loss')
        total, log_vars = self.parse_losses(losses)
        if isinstance(optim_wrapper, GradAlignOptimWrapper):
            optim_wrapper.update_params_split(*self.split_losses(losses))
        else:
            optim_wrapper.update_params(total)
        return log_vars

    @staticmethod
    def agreement(student_logits: torch.Tensor,
                  teacher_logits: torch.Tensor) -> torch.Tensor:
        """Fraction of samples where teacher and student agree on top-1."""
        return (student_logits.argmax(-1) == teacher_logits.argmax(-1)
                ).float().mean()
