"""Faster R-CNN's box head with DHKD's auxiliary classifier ``fc_cls_aux``."""
from typing import Optional, Tuple, Union

from mmdet.models.roi_heads.bbox_heads import Shared2FCBBoxHead
from mmdet.registry import MODELS
from torch import Tensor

from ..models.dual_head import build_aux_head


@MODELS.register_module()
class DualShared2FCBBoxHead(Shared2FCBBoxHead):
    """``Shared2FCBBoxHead`` plus ``fc_cls_aux``, a second classifier on the
    same RoI feature as ``fc_cls`` (C+1 logits, background included).

    ``fc_cls`` keeps MMDetection's classification loss and makes the
    predictions; ``fc_cls_aux`` is trained only by the distillation loss
    against the teacher's C+1 logits.  The parameters of the plain head keep
    their names, so dropping ``fc_cls_aux`` leaves a ``Shared2FCBBoxHead``
    checkpoint.

    Args:
        aux_head: 'linear' or 'nonlinear' (see ``build_aux_head``).
        Other args: as ``Shared2FCBBoxHead``.
    """

    def __init__(self, *args, aux_head: str = 'linear', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.with_cls or self.custom_cls_channels:
            raise ValueError(
                'DualShared2FCBBoxHead needs a softmax classifier with C+1 '
                'outputs (with_cls=True and a loss_cls without custom '
                'channels) to match the teacher logits')
        self.fc_cls_aux = build_aux_head(aux_head, self.cls_last_dim,
                                         self.num_classes + 1)
        if aux_head == 'linear' and isinstance(self.init_cfg, list):
            # as fc_cls: small initial logits (a whole-module Normal init
            # would also zero the nonlinear head's BatchNorm scale)
            self.init_cfg += [
                dict(type='Normal', std=0.01,
                     override=dict(name='fc_cls_aux'))
            ]

    def forward(self, x: Tensor, with_aux: bool = False
                ) -> Union[Tuple[Tensor, Tensor],
                           Tuple[Tensor, Tensor, Optional[Tensor]]]:
        """RoI features (n, C_in, 7, 7) -> ``(cls_score (n, C+1), bbox_pred)``
        exactly as ``Shared2FCBBoxHead``; with ``with_aux`` also the aux
        logits (n, C+1) of the same feature."""
        # Shared2FCBBoxHead's trunk: no convs, two shared fcs, and no branch
        # layers, so the classification and regression features coincide.
        if self.with_avg_pool:
            x = self.avg_pool(x)
        x = x.flatten(1)
        for fc in self.shared_fcs:
            x = self.relu(fc(x))
        cls_score = self.fc_cls(x)
        bbox_pred = self.fc_reg(x) if self.with_reg else None
        if with_aux:
            return cls_score, bbox_pred, self.fc_cls_aux(x)
        return cls_score, bbox_pred
