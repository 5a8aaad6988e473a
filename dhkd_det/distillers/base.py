"""The one distiller base: a frozen teacher beside a student, and the
distillation step shared by the classification and detection distillers.

``BaseDistiller.loss_split`` is the template.  A subclass supplies the
student pass (its task losses, and the student logits to distil in groups,
with whatever locates them for the teacher) and the teacher's logits aligned
with each group; the base adds the scaled distillation losses, their
zero-gradient stand-ins at scale 0 and the teacher agreement, and keeps the
two kinds apart (``LossSplit``) as it computes them, so the training step
never has to tell them apart by their names.

Two ways in for the optimizer wrapper and the hooks, both documented here:

- an optimizer wrapper that steps on the task and the distillation losses
  apart offers ``update_params_split(task, distill)``
  (``GradAlignOptimWrapper`` does); any other steps on their total;
- ``add_grad_observer(fn)`` / ``remove_grad_observer(fn)``: ``fn(task,
  distill)`` is called with the two totals every training step, before the
  update, whatever the optimizer wrapper (``GradDiagnosticsHook``).

The teacher is kept out of the module tree on purpose: it is then never in
the optimizer, never in a checkpoint, never put back into train mode by
``model.train()`` and never wrapped by DDP, while device moves (``.to()``,
``.cuda()``, ``.half()``) still reach it through ``_apply``.
"""
from abc import abstractmethod
from typing import (Any, Callable, Dict, List, NamedTuple, Optional,
                    Sequence, Tuple, Union)

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from mmengine.registry import MODELS
from torch import Tensor

from ..checkpoint.teacher import load_teacher_checkpoint
from ..losses import check_distill_loss
from ..models.dual_head import check_loss_heads, named_aux_modules
from .graphed_step import GraphedTrainStep
from .teacher import build_teacher

#: called by ``train_step`` with the (task, distillation) totals
GradObserver = Callable[[Tensor, Tensor], None]


class Distilled(NamedTuple):
    """One group of student logits the distillation losses compare with
    the teacher's (classification: the batch; Faster R-CNN / RetinaNet: the
    sampled RoIs / the kept anchors; Cascade R-CNN: one group per stage)."""
    logits: Dict[str, Optional[Tensor]]  # by head: 'main', 'aux' (or None)
    target: Optional[Tensor] = None  # class labels, for DKD
    where: Any = None  # what the subclass's teacher_logits needs to align
    loss_prefix: str = ''  # as the student names the group's own losses
    loss_weight: float = 1.0  # as the student weights them


class LossSplit(NamedTuple):
    """A training step's loss dict in its two parts, as the distiller made
    them: the student's own (task) losses, and the distillation losses with
    what is logged beside them (``teacher_agree``).  Which entries count
    towards a total is MMEngine's ``parse_losses`` convention (a key with
    'loss' in it)."""
    task: Dict[str, Tensor]
    distill: Dict[str, Tensor]

    def merged(self) -> Dict[str, Tensor]:
        """The one loss dict MMEngine's ``mode='loss'`` returns."""
        return {**self.task, **self.distill}


class BaseDistiller(BaseModel):
    """Teacher bookkeeping, the distillation loss template and the training
    step that keeps the task and distillation losses apart.

    A subclass puts this class first among its bases and the model it
    extends after it (``ClsDistiller(BaseDistiller, ImageClassifier)``,
    ``DetDistiller(BaseDistiller, BaseDetector)``): the keyword arguments
    below are taken here, the others go to that model.  It implements
    ``student_pass``, ``teacher_logits``, ``class_count``,
    ``main_classifiers`` and ``student_backbone``, sets ``has_aux`` and
    ``aux_head_fix``, and calls ``check_distillation`` once its student is
    built.

    Besides MMEngine's modes, ``forward`` takes ``mode='loss_split'``
    (returning the ``LossSplit``), through which ``train_step`` runs the
    forward (under DDP, DDP's own).

    Args:
        teacher: the teacher's model config, a config file path, an
            ``mmdet::`` config name, or None for no teacher.
        teacher_ckpt: checkpoint path or URL of the teacher; loaded lazily
            (by ``DHKDHook.before_train`` or the first teacher forward), so
            testing a student does not need it.
        teacher_ckpt_ema: for a teacher checkpoint with mmcv 1.x EMA
            weights (``ema_*`` keys) beside the plain ones, True loads the
            EMA ones, False the plain ones; unset, such a checkpoint is
            refused naming both (``load_teacher_checkpoint``).
        distill_losses: ``{head: loss_cfg}`` of the distillation losses, each
            scaled by ``distill_scale`` (1 unless ``DistillScheduleHook``
            sets it per iteration).
        cuda_graph: run the training step as one captured CUDA graph
            (``GraphedTrainStep``; distillers whose batches keep one shape
            only, see ``supports_cuda_graph``).
    """

    #: whether the teacher's logits need the student's pass first (a
    #: detector's sampled RoIs / kept anchors).  Where they do not, the
    #: teacher runs first: its activations then come and go before the
    #: student's saved ones are held, not beside them (on CPU, glibc
    #: returned and re-faulted that memory every step).
    teacher_needs_student_pass = True
    #: whether the training step keeps every shape from batch to batch, so
    #: that it can be captured as a CUDA graph (a detector's proposals and
    #: sampled RoIs change in number)
    supports_cuda_graph = False

    def __init__(self,
                 teacher: Union[dict, str, None] = None,
                 teacher_ckpt: Optional[str] = None,
                 distill_losses: Optional[Dict[str, dict]] = None,
                 cuda_graph: bool = False,
                 teacher_ckpt_ema: Optional[bool] = None,
                 **kwargs):
        distill_losses = distill_losses or {}
        if cuda_graph and not self.supports_cuda_graph:
            raise ValueError(
                f'model.cuda_graph=True: {type(self).__name__} cannot be '
                'captured as a CUDA graph (its shapes change from batch to '
                'batch); remove model.cuda_graph / --cuda-graph')
        if distill_losses and teacher is None:
            raise ValueError('model.distill_losses is set but model.teacher '
                             'is None: a distillation loss needs a teacher')
        # built before the student, so that a seed draws the student's
        # initial weights as it always has
        model = None if teacher is None else build_teacher(teacher)
        super().__init__(**kwargs)
        self.teacher_ckpt = teacher_ckpt
        self.teacher_ckpt_ema = teacher_ckpt_ema
        self.distill_losses = nn.ModuleDict(
            {head: build_distill_loss(head, cfg)
             for head, cfg in distill_losses.items()})
        #: multiplies every distillation loss (warm-up / stop schedule)
        self.distill_scale = 1.0
        #: log the teacher/student top-1 agreement (set by DHKDHook)
        self.log_agreement = False
        self._grad_observers: List[GradObserver] = []
        self.teacher_loaded = False
        if model is not None:
            model.eval().requires_grad_(False)
        object.__setattr__(self, 'teacher', model)
        self.graphed_step = GraphedTrainStep(self) if cuda_graph else None

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

    @abstractmethod
    def main_classifiers(self) -> List[nn.Module]:
        """The student's main classifier(s): trained by the task loss,
        making the predictions (one per box-head stage)."""

    @abstractmethod
    def student_backbone(self) -> nn.Module:
        """The student's feature extractor, which every loss reaches (it
        may contain the main classifier, which is not counted in it)."""

    def aux_classifiers(self) -> List[nn.Module]:
        """The student's auxiliary classifiers, as its modules declare them
        (``aux_module_names()``)."""
        return list(named_aux_modules(self.student).values())

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
    def load_teacher(self, classes: Optional[Sequence[str]] = None) -> None:
        """Load ``teacher_ckpt`` once; raises a clear error when it is
        missing or does not fit, or (``classes``: the training data's class
        names) when its meta names them in another order."""
        if self.teacher is None or self.teacher_loaded:
            return
        load_teacher_checkpoint(self.teacher, self.teacher_ckpt,
                                ema=self.teacher_ckpt_ema, classes=classes)
        self.teacher.eval()
        self.teacher_loaded = True
        print_log(f'teacher loaded from {self.teacher_ckpt}', 'current')

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        if self.teacher is not None:
            self.teacher._apply(fn, *args, **kwargs)
        return self

    # ----- losses -------------------------------------------------------
    def forward(self, inputs: Tensor, data_samples: Any = None,
                mode: str = 'tensor'):
        """MMEngine's modes, and 'loss_split': the ``LossSplit``."""
        if mode == 'loss_split':
            return self.loss_split(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)

    def loss(self, inputs: Tensor, data_samples: Any) -> Dict[str, Tensor]:
        """The losses of ``loss_split`` in one dict, as MMEngine's
        ``mode='loss'`` returns them."""
        return self.loss_split(inputs, data_samples).merged()

    def loss_split(self, inputs: Tensor, data_samples: Any) -> LossSplit:
        """The student's task losses and, per group, every distillation
        loss times ``distill_scale``, prefixed and weighted as the student
        names and weights the group's own losses."""
        teacher_first = bool(self.distill_losses) and \
            self.distill_scale != 0 and not self.teacher_needs_student_pass
        if teacher_first:
            t_logits = self.teacher_logits(inputs, [None])
        losses, distilled = self.student_pass(inputs, data_samples)
        distill: Dict[str, Tensor] = {}
        if not self.distill_losses:
            return LossSplit(losses, distill)
        if self.distill_scale == 0:
            for part in distilled:
                distill.update(_prefixed(
                    part.loss_prefix, self.zero_distill_losses(part.logits)))
            return LossSplit(losses, distill)
        if not teacher_first:
            t_logits = self.teacher_logits(
                inputs, [part.where for part in distilled])
        for part, t in zip(distilled, t_logits):
            # a group with nothing to distil (a detector's stage without
            # foreground RoIs, with distill_rois='foreground') adds zero: a
            # mean over no RoI would be NaN
            part_losses = self.scaled_distill_losses(
                part.logits, t, part.target) if len(t) else \
                self.zero_distill_losses(part.logits)
            distill.update(_prefixed(part.loss_prefix, {
                k: v * part.loss_weight
                for k, v in part_losses.items()
            }))
        if self.log_agreement and sum(len(t) for t in t_logits):
            # over every distilled sample / RoI / anchor, all groups together
            distill['teacher_agree'] = self.agreement(
                torch.cat([part.logits['main'].detach()
                           for part in distilled]), torch.cat(t_logits))
        return LossSplit(losses, distill)

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

    def loss_totals(self, split: LossSplit) -> Tuple[Tensor, Tensor]:
        """The (task, distillation) totals of ``split``, each summed as
        ``parse_losses`` sums the total (so they add up to it)."""
        totals = [self.parse_losses(part)[0] for part in split]
        like = next(v for part in split for v in part.values())
        # a part without losses sums to the int 0
        return tuple(t if isinstance(t, Tensor) else like.new_zeros(())
                     for t in totals)

    def add_grad_observer(self, observer: GradObserver) -> None:
        """Call ``observer(task, distill)`` with the two loss totals every
        training step, before the update (see the module's docstring)."""
        self._grad_observers.append(observer)

    def remove_grad_observer(self, observer: GradObserver) -> None:
        self._grad_observers.remove(observer)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper,
                   runner_model: Optional[nn.Module] = None
                   ) -> Dict[str, Tensor]:
        """MMEngine's step, except that an optimizer wrapper offering
        ``update_params_split`` (gradient alignment) gets the task and the
        distillation totals apart; any other steps on their total.  With
        ``cuda_graph`` the step is the captured one where the batch allows
        (``GraphedTrainStep``).  ``runner_model``: the DDP wrapper of this
        distiller (``DistillerDataParallel``), through which the forward
        runs."""
        if self.graphed_step is not None and self.graphed_step.accepts(
                data, runner_model):
            return self.graphed_step(data, optim_wrapper)
        model = self if runner_model is None else runner_model
        with optim_wrapper.optim_context(model):
            data = self.data_preprocessor(data, True)
            split = model._run_forward(data, mode='loss_split')
        total, log_vars = self.parse_losses(split.merged())
        step_split = getattr(optim_wrapper, 'update_params_split', None)
        if step_split is not None or self._grad_observers:
            task, distill = self.loss_totals(split)
            for observe in list(self._grad_observers):
                observe(task, distill)
        if step_split is not None:
            step_split(task, distill)
        else:
            optim_wrapper.update_params(total)
        return log_vars

    @staticmethod
    def agreement(student_logits: Tensor, teacher_logits: Tensor) -> Tensor:
        """Fraction of samples where teacher and student agree on top-1."""
        return (student_logits.argmax(-1) == teacher_logits.argmax(-1)
                ).float().mean()


def build_distill_loss(head: str, cfg: dict) -> nn.Module:
    """The distillation loss of ``head`` from its config, its errors
    prefixed with ``model.distill_losses.<head>``; one that does not follow
    the loss protocol is refused (``check_distill_loss``)."""
    where = f'model.distill_losses.{head}'
    try:
        loss = MODELS.build(cfg)
    except (ValueError, TypeError) as err:
        raise type(err)(f'{where}: {err}') from err
    check_distill_loss(loss, where)
    return loss


def _prefixed(prefix: str, losses: Dict[str, Tensor]) -> Dict[str, Tensor]:
    return {prefix + key: value for key, value in losses.items()}
