"""Classification distiller: DHKD and the KD / DKD / dual-head+KD baselines,
chosen entirely by which loss the config puts on which head."""
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.registry import MODELS

from ..models.dual_head import HeadOutputs
from ..models.image_classifier import ImageClassifier
from .base import BaseDistiller, Distilled


@MODELS.register_module()
class ClsDistiller(BaseDistiller, ImageClassifier):
    """An ``ImageClassifier`` (student usually a ``DualHeadClassifier``)
    distilled from a frozen teacher.

    DHKD::

        task_losses=dict(main=dict(type='CELoss')),
        distill_losses=dict(aux=dict(type='BinaryKLNormLoss', temperature=2))

    KD baseline: ``distill_losses=dict(main=dict(type='KDLoss'))`` with a
    single-head student; "dual head + KD": ``dict(aux=dict(type='KDLoss'))``.

    Args:
        eval_teacher: also report the teacher's top-k at validation (under
            ``teacher/``).
        teacher, teacher_ckpt, teacher_ckpt_ema, distill_losses,
            cuda_graph: see ``BaseDistiller``.
        Other args: see ``ImageClassifier``.
    """

    def __init__(self,
                 student: dict,
                 teacher: Union[dict, str, None] = None,
                 teacher_ckpt: Optional[str] = None,
                 task_losses: Optional[Dict[str, dict]] = None,
                 distill_losses: Optional[Dict[str, dict]] = None,
                 cuda_graph: bool = False,
                 eval_aux: bool = False,
                 eval_teacher: bool = False,
                 topk: int = 5,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 teacher_ckpt_ema: Optional[bool] = None):
        super().__init__(teacher=teacher, teacher_ckpt=teacher_ckpt,
                         teacher_ckpt_ema=teacher_ckpt_ema,
                         distill_losses=distill_losses, cuda_graph=cuda_graph,
                         student=student,
                         task_losses=task_losses, eval_aux=eval_aux,
                         topk=topk, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.check_distillation()
        if eval_teacher and self.teacher is None:
            raise ValueError('eval_teacher=True needs model.teacher')
        self.eval_teacher = eval_teacher

    @staticmethod
    def class_count(model: nn.Module) -> Optional[int]:
        if hasattr(model, 'num_classes'):
            return int(model.num_classes)
        fc = getattr(model, 'fc', None)
        return getattr(fc, 'out_features', None)

    def main_classifiers(self) -> List[nn.Module]:
        """The zoo network's ``fc``."""
        return [self.student.network.fc]

    def student_backbone(self) -> nn.Module:
        """The zoo network (its ``fc`` included)."""
        return self.student.network

    #: the teacher sees the batch itself, not something of the student's
    teacher_needs_student_pass = False
    #: every batch of a data set of one image size has the same shapes
    supports_cuda_graph = True

    def student_pass(self, inputs: torch.Tensor, labels: torch.Tensor
                     ) -> Tuple[Dict[str, torch.Tensor], List[Distilled]]:
        """The task losses; one group, the batch's logits of every head."""
        heads = self.student_heads(inputs)._asdict()
        return self.head_losses(heads, labels), [
            Distilled(logits=heads, target=labels)]

    @torch.no_grad()
    def teacher_logits(self, inputs: torch.Tensor,
                       wheres: List[Any] = (None, )) -> List[torch.Tensor]:
        """The teacher's (main) logits of the batch, in a one-group list."""
        self.load_teacher()
        out = self.teacher(inputs)
        return [out.main if isinstance(out, HeadOutputs) else out]

    def eval_logits(self, inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        logits = super().eval_logits(inputs)
        if self.eval_teacher:
            (logits['teacher'], ) = self.teacher_logits(inputs)
        return logits
