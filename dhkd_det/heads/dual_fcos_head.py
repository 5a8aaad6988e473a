"""FCOS's (anchor-free) head with DHKD's auxiliary classifier
``conv_cls_aux``."""
from typing import List

import torch
from mmdet.models.dense_heads import FCOSHead
from mmdet.registry import MODELS
from mmdet.utils import InstanceList, OptInstanceList
from torch import Tensor

from .dense import DistillDenseHead


@MODELS.register_module()
class DualFCOSHead(DistillDenseHead, FCOSHead):
    """``FCOSHead`` plus ``conv_cls_aux``, a second classification conv of
    ``conv_cls``'s shape on the classification tower, trained only by the
    distillation loss.

    The forward is ``FCOSHead``'s, untouched: ``conv_cls`` keeps the focal
    loss and makes the predictions (with the centerness branch).  Dropping
    ``conv_cls_aux`` leaves an ``FCOSHead`` checkpoint.  Both classifiers
    start from the focal-loss prior unless ``init_cfg`` says otherwise.
    ``aux_classifier=False``: no aux classifier (a main-head baseline).

    Distilled points: all of them, of every image, as FCOS's focal loss
    covers every point (no label weights, nothing ignored).
    """

    main_cls_name = 'conv_cls'

    def distilled_priors(self, cls_scores: List[Tensor],
                         batch_gt_instances: InstanceList,
                         batch_img_metas: List[dict],
                         batch_gt_instances_ignore: OptInstanceList = None
                         ) -> Tensor:
        """``FCOSHead.loss_by_feat`` classifies every point of
        ``prior_generator.grid_priors`` of every image: all True."""
        featmap_sizes = [s.shape[-2:] for s in cls_scores]
        points = self.prior_generator.grid_priors(
            featmap_sizes, dtype=cls_scores[0].dtype,
            device=cls_scores[0].device)
        num_points = sum(p.shape[0] for p in points)
        return torch.ones(len(batch_img_metas) * num_points,
                          dtype=torch.bool, device=cls_scores[0].device)
