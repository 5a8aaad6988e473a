"""Classification distiller: DHKD and the KD / DKD / dual-head+KD baselines,
chosen entirely by which loss the config puts on which head."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.registry import MODELS

from ..models.dual_head import HeadOutputs
from .base import BaseDistiller

HEADS = ('main', 'aux')


@MODELS.register_module()
class ClsDistiller(BaseDistiller):
    """Student (usually a ``DualHeadClassifier``) distilled from a frozen
    teacher.

    DHKD::

        task_losses=dict(main=dict(type='CELoss')),
        distill_losses=dict(aux=dict(type='BinaryKLNormLoss', temperature=2))

    KD baseline: ``distill_losses=dict(main=dict(type='KDLoss'))`` with a
    single-head student; "dual head + KD": ``dict(aux=dict(type='KDLoss'))``.

    Args:
        student: config of the student network.
        task_losses: ``{head: loss_cfg}`` of label losses.
        eval_aux / eval_teacher: also report the aux head's / the teacher's
            top-k at validation (under ``aux/`` and ``teacher/``).
        Other args: see ``BaseDistiller``.
    """

    def __init__(self,
                 student: dict,
                 teacher: Union[dict, str, None] = None,
                 teacher_ckpt: Optional[str] = None,
                 task_losses: Optional[Dict[str, dict]] = None,
                 distill_losses: Optional[Dict[str, dict]] = None,
                 eval_aux: bool = False,
                 eval_teacher: bool = False,
                 topk: int = 5,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(teacher=teacher, teacher_ckpt=teacher_ckpt,
                         distill_losses=distill_losses,
                         data_preprocessor=data_preprocessor or dict(
                             type='ClsDataPreprocessor'),
                         init_cfg=init_cfg)
        self.student = MODELS.build(student)
        task_losses = dict(main=dict(type='CELoss')) if task_losses is None \
            else task_losses
        self.task_losses = nn.ModuleDict(
            {head: MODELS.build(cfg) for head, cfg in task_losses.items()})
        has_aux = getattr(self.student, 'aux_head', None) is not None
        for group, heads in (('task_losses', self.task_losses),
                             ('distill_losses', self.distill_losses)):
            for head in heads:
                if head not in HEADS:
                    raise KeyError(f'model.{group} has a loss for head '
                                   f'{head!r}; heads are {HEADS}')
                if head == 'aux' and not has_aux:
                    raise ValueError(
                        f'model.{group} puts a loss on the aux head but the '
                        "student has none: set aux_head='linear' or "
                        "'nonlinear' in model.student")
        if eval_aux and not has_aux:
            raise ValueError('eval_aux=True needs a student with an aux head')
        if eval_teacher and self.teacher is None:
            raise ValueError('eval_teacher=True needs model.teacher')
        self.eval_aux = eval_aux
        self.eval_teacher = eval_teacher
        self.topk = topk
        self._check_num_classes()

    def _check_num_classes(self) -> None:
        if self.teacher is None:
            return
        t = _num_classes(self.teacher)
        s = _num_classes(self.student)
        if t is not None and s is not None and t != s:
            raise ValueError(
                f'the teacher predicts {t} classes but the student {s}: set '
                'the same num_classes in model.teacher and model.student (the '
                "data set's class count)")

    # ----- forward passes -----------------------------------------------
    def student_heads(self, inputs: torch.Tensor) -> HeadOutputs:
        out = self.student(inputs)
        return out if isinstance(out, HeadOutputs) else HeadOutputs(out)

    @torch.no_grad()
    def teacher_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        self.load_teacher()
        out = self.teacher(inputs)
        return out.main if isinstance(out, HeadOutputs) else out

    def forward(self, inputs: torch.Tensor,
                data_samples: Optional[torch.Tensor] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.student_heads(inputs)
        raise ValueError(f'unknown mode {mode!r}')

    def loss(self, inputs: torch.Tensor,
             labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        heads = self.student_heads(inputs)._asdict()
        losses = {f'loss_{fn.log_name}_{head}': fn(heads[head], labels)
                  for head, fn in self.task_losses.items()}
        if not self.distill_losses:
            return losses
        if self.distill_scale == 0:
            losses.update(self.zero_distill_losses(heads))
            return losses
        t_logits = self.teacher_logits(inputs)
        losses.update(self.scaled_distill_losses(heads, t_logits, labels))
        if self.log_agreement:
            losses['teacher_agree'] = self.agreement(heads['main'].detach(),
                                                     t_logits)
        return losses

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor,
                labels: Optional[torch.Tensor] = None) -> List[dict]:
        """One dict per sample: ``gt_label`` and the top-k class indices of
        each evaluated head (``main`` always)."""
        heads = self.student_heads(inputs)
        logits = {'main': heads.main}
        if self.eval_aux:
            logits['aux'] = heads.aux
        if self.eval_teacher:
            logits['teacher'] = self.teacher_logits(inputs)
        k = min(self.topk, heads.main.shape[-1])
        top = {name: v.topk(k, dim=-1).indices.cpu()
               for name, v in logits.items()}
        labels = labels.cpu() if labels is not None else [None] * len(
            heads.main)
        return [{'gt_label': labels[i],
                 'topk': {name: t[i] for name, t in top.items()}}
                for i in range(len(heads.main))]


@MODELS.register_module()
class ImageClassifier(ClsDistiller):
    """Plain supervised training (teachers, the CE-only baseline): a
    ``ClsDistiller`` without a teacher."""

    def __init__(self, student: dict, task_losses=None, topk: int = 5,
                 data_preprocessor=None, init_cfg=None):
        super().__init__(student=student, task_losses=task_losses, topk=topk,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)


def _num_classes(model: nn.Module) -> Optional[int]:
    if hasattr(model, 'num_classes'):
        return int(model.num_classes)
    fc = getattr(model, 'fc', None)
    return getattr(fc, 'out_features', None)
