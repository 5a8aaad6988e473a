"""The plain classifier trained on labels: teachers, the CE-only baseline,
and the base of ``ClsDistiller``, which adds a teacher and distillation to
it.  Its student sits under ``student`` (a ``DualHeadClassifier`` puts the
zoo network under ``student.network``), the names checkpoints have always
used, so a teacher trained with it is stored as ``student.network.*``."""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.registry import MODELS

from .dual_head import HeadOutputs, check_loss_heads


@MODELS.register_module()
class ImageClassifier(BaseModel):
    """A classification network (usually a ``DualHeadClassifier``) trained
    by label losses on its heads.

    Args:
        student: config of the network.
        task_losses: ``{head: loss_cfg}`` of label losses (default CE on
            'main').
        eval_aux: also report the aux head's top-k at validation (under
            ``aux/``).
        topk: the k of the reported top-k.
    """

    #: how to give the student the aux head a loss config names
    aux_head_fix = ("set aux_head='linear' or 'nonlinear' in "
                    'model.student')

    def __init__(self,
                 student: dict,
                 task_losses: Optional[Dict[str, dict]] = None,
                 eval_aux: bool = False,
                 topk: int = 5,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor or dict(
            type='ClsDataPreprocessor'), init_cfg=init_cfg)
        self.student = MODELS.build(student)
        task_losses = dict(main=dict(type='CELoss')) if task_losses is None \
            else task_losses
        self.task_losses = nn.ModuleDict(
            {head: MODELS.build(cfg) for head, cfg in task_losses.items()})
        check_loss_heads('task_losses', self.task_losses, self.has_aux,
                         self.aux_head_fix)
        if eval_aux and not self.has_aux:
            raise ValueError('eval_aux=True needs a student with an aux head')
        self.eval_aux = eval_aux
        self.topk = topk

    @property
    def has_aux(self) -> bool:
        return getattr(self.student, 'aux_head', None) is not None

    def student_heads(self, inputs: torch.Tensor) -> HeadOutputs:
        out = self.student(inputs)
        return out if isinstance(out, HeadOutputs) else HeadOutputs(out)

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

    def head_losses(self, heads: Dict[str, torch.Tensor],
                    labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The task losses of the heads' logits, ``loss_<loss>_<head>``."""
        return {f'loss_{fn.log_name}_{head}': fn(heads[head], labels)
                for head, fn in self.task_losses.items()}

    def loss(self, inputs: torch.Tensor,
             labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        return self.head_losses(self.student_heads(inputs)._asdict(), labels)

    def eval_logits(self, inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The logits reported at validation, by name: 'main' always,
        'aux' with ``eval_aux``."""
        heads = self.student_heads(inputs)
        logits = {'main': heads.main}
        if self.eval_aux:
            logits['aux'] = heads.aux
        return logits

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor,
                labels: Optional[torch.Tensor] = None) -> List[dict]:
        """One dict per sample: ``gt_label`` and the top-k class indices of
        each of ``eval_logits``."""
        logits = self.eval_logits(inputs)
        num = len(logits['main'])
        k = min(self.topk, logits['main'].shape[-1])
        top = {name: v.topk(k, dim=-1).indices.cpu()
               for name, v in logits.items()}
        labels = labels.cpu() if labels is not None else [None] * num
        return [{'gt_label': labels[i],
                 'topk': {name: t[i] for name, t in top.items()}}
                for i in range(num)]
