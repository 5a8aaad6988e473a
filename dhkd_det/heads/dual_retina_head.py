"""RetinaNet's head with DHKD's auxiliary classifier ``retina_cls_aux``."""
from contextlib import contextmanager
from typing import Iterator, List, Tuple

import torch
import torch.nn as nn
from mmdet.models.dense_heads import AnchorHead, RetinaHead
from mmdet.registry import MODELS
from mmdet.utils import InstanceList, OptInstanceList
from torch import Tensor

from .capture import inputs_of

_PRIOR_INIT = dict(type='Normal', std=0.01, bias_prob=0.01)


@MODELS.register_module()
class DualRetinaHead(RetinaHead):
    """``RetinaHead`` plus ``retina_cls_aux``, a second 3x3 conv classifier
    on the classification tower giving per-anchor sigmoid logits
    (``num_base_priors * num_classes`` channels, as ``retina_cls``).

    The forward is ``RetinaHead``'s, untouched: ``retina_cls`` keeps the
    focal loss and makes the predictions.  ``retina_cls_aux`` is evaluated
    only by the distiller (``aux_cls_scores``), on each level's input of
    ``retina_cls`` collected while the detector computes its own losses
    (``recording_cls_feats``), and is trained only by the distillation
    loss.  Plain parameter names are kept, so dropping
    ``retina_cls_aux`` leaves a ``RetinaHead`` checkpoint.  Both classifiers
    start from the focal-loss prior (bias for p = 0.01) unless ``init_cfg``
    says otherwise.
    """

    def __init__(self, *args,
                 init_cfg: dict = dict(
                     type='Normal', layer='Conv2d', std=0.01,
                     override=[dict(name='retina_cls', **_PRIOR_INIT),
                               dict(name='retina_cls_aux', **_PRIOR_INIT)]),
                 **kwargs) -> None:
        super().__init__(*args, init_cfg=init_cfg, **kwargs)

    def _init_layers(self) -> None:
        super()._init_layers()
        self.retina_cls_aux = nn.Conv2d(
            self.retina_cls.in_channels, self.retina_cls.out_channels, 3,
            padding=1)

    def aux_module_names(self) -> Tuple[str, ...]:
        return ('retina_cls_aux', )

    @contextmanager
    def recording_cls_feats(self) -> Iterator[List[Tensor]]:
        """Yields a list that receives, while the context is active, every
        level's classification feature (the class tower's output) of each
        forward of the head."""
        with inputs_of(self.retina_cls) as feats:
            yield feats

    def aux_cls_scores(self, cls_feats: List[Tensor]) -> List[Tensor]:
        """The aux classifier's per-level (N, A*C, H, W) logits of the
        per-level classification features ``cls_feats``."""
        return [self.retina_cls_aux(feat) for feat in cls_feats]


def per_anchor_logits(cls_scores: List[Tensor], num_channels: int) -> Tensor:
    """Per-level maps (N, A*C, H, W) -> (N * sum(H*W*A), C) with
    C = ``num_channels``, anchors in the order of MMDetection's targets
    (image, level, y, x, anchor)."""
    num_imgs = cls_scores[0].shape[0]
    return torch.cat([
        s.permute(0, 2, 3, 1).reshape(num_imgs, -1, num_channels)
        for s in cls_scores
    ], 1).reshape(-1, num_channels)


def distilled_anchors(head: AnchorHead, cls_scores: List[Tensor],
                      batch_gt_instances: InstanceList,
                      batch_img_metas: List[dict],
                      batch_gt_instances_ignore: OptInstanceList = None
                      ) -> Tensor:
    """Boolean mask (M,), in the order of ``per_anchor_logits``, of the
    anchors a distillation loss covers: valid and assigned positive or
    negative by ``head``'s assigner (ignored anchors have label weight 0).

    Runs the assignment of ``head.loss_by_feat`` (a second time: the focal
    loss keeps its targets to itself).
    """
    featmap_sizes = [s.shape[-2:] for s in cls_scores]
    anchors, valid_flags = head.get_anchors(
        featmap_sizes, batch_img_metas, device=cls_scores[0].device)
    label_weights = head.get_targets(
        anchors, valid_flags, batch_gt_instances, batch_img_metas,
        batch_gt_instances_ignore=batch_gt_instances_ignore)[1]
    return torch.cat(label_weights, 1).reshape(-1) > 0
