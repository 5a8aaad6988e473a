"""The one distiller base: a frozen teacher beside a student, and the
distillation step shared by the classification and detection distillers.

``BaseDistiller.loss`` is the template.  A subclass supplies the student
pass (its task losses, and the student logits to distil in groups, with
whatever locates them for the teacher) and the teacher's logits aligned
with each group; the base adds the scaled distillation losses, their
zero-gradient stand-ins at scale 0 and the teacher agreement.

The teacher is kept out of the module tree on purpose: it is then never in
the optimizer, never in a checkpoint, never put back into train mode by
``model.train()`` and never wrapped by DDP, while device moves (``.to()``,
``.cuda()``, ``.half()``) still reach it through ``_apply``.
"""
from abc import abstractmethod
from typing import Any, Dict, List, NamedTuple, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from mmengine.registry import MODELS
from torch import Tensor

from ..optim.grad_align import GradAlignOptimWrapper
from ..models.dual_head import check_loss_heads
from .teacher import build_teacher, load_teacher_checkpoint


class Distilled(NamedTuple):
    """One group of student logits the distillation losses compare with
    the teacher's (classification: the batch; Faster R-CNN / RetinaNet: the
    sampled RoIs / the kept anchors; Cascade R-CNN: one group per stage)."""
    logits: Dict[str, Optional[Tensor]]  # by head: 'main', 'aux' (or None)
    target: Optional[Tensor] = None  # class labels, for DKD
    where: Any = None  # what the subclass's teacher_logits needs to align
    loss_prefix: str = ''  # as the student names the group's own losses
    loss_weight: float = 1.0  # as the student weights them


class BaseDistiller(BaseModel):
    """Teacher bookkeeping, the distillation loss template and the training
    step that keeps the task and distillation losses apart.

    A subclass puts this class first among its bases and the model it
    extends after it (``ClsDistiller(BaseDistiller, ImageClassifier)``,
    ``DetDistiller(BaseDistiller, BaseDetector)``): the keyword arguments
    below are taken here, the others go to that model.  It implements
    ``student_pass``, ``teacher_logits`` and ``class_count``, sets
    ``has_aux`` and ``aux_head_fix``, and calls ``check_distillation`` once
    its student is built.

    Args:
        teacher: the teacher's model config, a config file path, an
            ``mmdet::`` config name, or None for no teacher.
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
                 **kwargs):
        distill_losses = distill_losses or {}
        if distill_losses and teacher is None:
            raise ValueError('model.distill_losses is set but model.teacher '
                             'is None: a distillation loss needs a teacher')
        # built before the student, so that a seed draws the student's
        # initial weights as it always has
        model = None if teacher is None else build_teacher(teacher)
        super().__init__(**kwargs)
        self.teacher_ckpt = teacher_ckpt
        self.distill_losses = nn.ModuleDict(
            {head: MODELS.build(cfg) for head, cfg in distill_losses.items()})
        #: multiplies every distillation loss (warm-up / stop schedule)
        self.distill_scale = 1.0
        #: log the teacher/student top-1 agreement (set by DHKDHook)
        self.log_agreement = False
        #: called with the (task, distillation) totals before the update
        #: (set by GradDiagnosticsHook on the steps it measures)
        self.grad_probe = None
        self.teacher_loaded = False
        if model is not None:
            model.eval().requires_grad_(False)
        object.__setattr__(self, 'teacher', model)

    # ----- what a subclass supplies -------------------------------------
    @abstractmethod
    def student_pass(self, inputs: Tensor, data_samples: Any
                     ) -> Tuple[Dict[str, Tensor], List[Distilled]]:
        """The student's task losses on the batch and the groups of its
        logits to distil (none needed while ``distill_losses`` is empty)."""

    @abstractmethod
    def teacher_logits(self, inputs: Tensor, wheres: List[Any]
                       ) -> List[Tensor]:
        """The teacher's logits aligned one to one with each group's
        student logits, given the groups' ``where``."""

    @staticmethod
    @abstractmethod
    def class_count(model: nn.Module) -> Optional[int]:
        """How many classes ``model`` (student or teacher) predicts, or
        None where it cannot tell."""

    # ----- checks at build time ------------------------------------------
    def check_distillation(self) -> None:
        """Distillation losses on heads the student has; teacher and student
        of as many classes."""
        check_loss_heads('distill_losses', self.distill_losses, self.has_aux,
                         self.aux_head_fix)
        if self.teacher is None:
            return
        t = self.class_count(self.teacher)
        s = self.class_count(self.student)
        if t is not None and s is not None and t != s:
            raise ValueError(
                f'the teacher has {t} classes but the student {s}: set the '
                'same num_classes in model.teacher and model.student (the '
                "data set's class count)")

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
    def loss(self, inputs: Tensor, data_samples: Any) -> Dict[str, Tensor]:
        """The student's task losses plus, per group, every distillation
        loss times ``distill_scale``, prefixed and weighted as the student
        names and weights the group's own losses."""
        losses, distilled = self.student_pass(inputs, data_samples)
        if not self.distill_losses:
            return losses
        if self.distill_scale == 0:
            for part in distilled:
                losses.update(_prefixed(part.loss_prefix,
                                        self.zero_distill_losses(part.logits)))
            return losses
        t_logits = self.teacher_logits(inputs,
                                       [part.where for part in distilled])
        for part, t in zip(distilled, t_logits):
            part_losses = self.scaled_distill_losses(part.logits, t,
                                                     part.target)
            losses.update(_prefixed(part.loss_prefix, {
                k: v * part.loss_weight
                for k, v in part_losses.items()
            }))
        if self.log_agreement:
            # over every distilled sample / RoI / anchor, all groups together
            losses['teacher_agree'] = self.agreement(
                torch.cat([part.logits['main'].detach()
                           for part in distilled]), torch.cat(t_logits))
        return losses

    def distill_loss_key(self, head: str) -> str:
        return f'loss_{self.distill_losses[head].log_name}_{head}'

    def scaled_distill_losses(self, student_logits: Dict[str, Tensor],
                              teacher_logits: Tensor,
                              target: Optional[Tensor] = None
                              ) -> Dict[str, Tensor]:
        """Every configured distillation loss, times ``distill_scale``.

        ``student_logits`` maps head names ('main', 'aux') to logits aligned
        with ``teacher_logits``.
        """
        return {self.distill_loss_key(head): self.distill_scale * loss_fn(
                    student_logits[head], teacher_logits, target=target)
                for head, loss_fn in self.distill_losses.items()}

    def zero_distill_losses(self, student_logits: Dict[str, Tensor]
                            ) -> Dict[str, Tensor]:
        """Distillation switched off (scale 0): no teacher forward, but the
        heads stay in the graph with zero gradient so DDP sees every
        parameter used."""
        return {self.distill_loss_key(head): student_logits[head].sum() * 0.
                for head in self.distill_losses}

    def is_distill_key(self, key: str) -> bool:
        """Whether ``key`` of the loss dict is a distillation loss: the key
        ``distill_loss_key`` gives, or it behind a group's prefix
        ('s1.loss_binary_kl_norm_aux', as MMDetection's cascade names stage
        losses)."""
        return key.rsplit('.', 1)[-1] in {
            self.distill_loss_key(h) for h in self.distill_losses}

    def split_losses(self, losses: Dict[str, Tensor]
                     ) -> Tuple[Tensor, Tensor]:
        """The (task, distillation) totals of a loss dict, each summed as
        ``parse_losses`` sums the total (so they add up to it)."""
        task, distill = [], []
        for key, value in losses.items():
            if 'loss' in key:
                value = value.mean() if isinstance(value, Tensor) \
                    else sum(v.mean() for v in value)
                (distill if self.is_distill_key(key) else task).append(value)
        zero = next(iter(task + distill)).new_zeros(())
        return sum(task, zero), sum(distill, zero)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper,
                   runner_model: Optional[nn.Module] = None
                   ) -> Dict[str, Tensor]:
        """MMEngine's step, except that gradient alignment gets the task and
        the distillation losses apart; any other wrapper steps on their
        total.  ``runner_model``: the DDP wrapper of this distiller
        (``DistillerDataParallel``), through which the forward runs."""
        model = self if runner_model is None else runner_model
        with optim_wrapper.optim_context(model):
            data = self.data_preprocessor(data, True)
            losses = model._run_forward(data, mode='loss')
        total, log_vars = self.parse_losses(losses)
        aligned = isinstance(optim_wrapper, GradAlignOptimWrapper)
        split = self.split_losses(losses) if (
            aligned or self.grad_probe is not None) else None
        if self.grad_probe is not None:  # GradDiagnosticsHook, some steps
            self.grad_probe(*split)
        if aligned:
            optim_wrapper.update_params_split(*split)
        else:
            optim_wrapper.update_params(total)
        return log_vars

    @staticmethod
    def agreement(student_logits: Tensor, teacher_logits: Tensor) -> Tensor:
        """Fraction of samples where teacher and student agree on top-1."""
        return (student_logits.argmax(-1) == teacher_logits.argmax(-1)
                ).float().mean()


def _prefixed(prefix: str, losses: Dict[str, Tensor]) -> Dict[str, Tensor]:
    return {prefix + key: value for key, value in losses.items()}
