"""MMDetection's ConvFC box heads with DHKD's auxiliary classifier
``fc_cls_aux``."""
from typing import Tuple

from torch import Tensor

from mmdet.models.roi_heads.bbox_heads import (ConvFCBBoxHead,
                                               Shared2FCBBoxHead,
                                               Shared4Conv1FCBBoxHead)
from mmdet.registry import MODELS

from ..models.dual_head import build_aux_head


class AuxClassifierMixin:
    """Adds ``fc_cls_aux``, a second classifier of the classification
    branch's feature (the input of ``fc_cls``, ``cls_last_dim`` wide) giving
    C+1 logits, background included.

    The box head's forward is MMDetection's, untouched: ``fc_cls`` keeps the
    detector's classification loss and makes the predictions.  ``fc_cls_aux``
    is evaluated only by the distiller (``aux_cls_scores``), on the input of
    ``fc_cls`` the dual RoI heads collect while the detector computes its own
    losses (``SampledRoIs.cls_feat``), and is trained only by the
    distillation loss.  The plain head's parameters
    keep their names, so dropping ``fc_cls_aux`` leaves a checkpoint of the
    plain head.

    Args:
        aux_head: 'linear' or 'nonlinear' (see ``build_aux_head``).
        Other args: as the plain head.
    """

    def __init__(self, *args, aux_head: str = 'linear', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.with_cls or self.custom_cls_channels:
            raise ValueError(
                f'{type(self).__name__} needs a softmax classifier with C+1 '
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

    def aux_module_names(self) -> Tuple[str, ...]:
        return ('fc_cls_aux', )

    def aux_cls_scores(self, cls_feat: Tensor) -> Tensor:
        """The aux classifier's (n, C+1) logits of the classification
        features ``cls_feat`` (n, ``cls_last_dim``)."""
        return self.fc_cls_aux(cls_feat)


@MODELS.register_module()
class DualConvFCBBoxHead(AuxClassifierMixin, ConvFCBBoxHead):
    """``ConvFCBBoxHead`` (any trunk and branch layout) plus ``fc_cls_aux``
    on the classification branch's feature."""


@MODELS.register_module()
class DualShared2FCBBoxHead(AuxClassifierMixin, Shared2FCBBoxHead):
    """``Shared2FCBBoxHead`` (Faster R-CNN, Cascade R-CNN) plus
    ``fc_cls_aux``."""


@MODELS.register_module()
class DualShared4Conv1FCBBoxHead(AuxClassifierMixin, Shared4Conv1FCBBoxHead):
    """``Shared4Conv1FCBBoxHead`` (the GN+WS and ResNeSt R-CNNs) plus
    ``fc_cls_aux``."""
