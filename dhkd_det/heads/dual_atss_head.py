"""ATSS's head with DHKD's auxiliary classifier ``atss_cls_aux``."""
from typing import List

import torch
from mmdet.models.dense_heads import ATSSHead
from mmdet.registry import MODELS
from mmdet.utils import InstanceList, OptInstanceList
from torch import Tensor

from .dense import DistillDenseHead


@MODELS.register_module()
class DualATSSHead(DistillDenseHead, ATSSHead):
    """``ATSSHead`` plus ``atss_cls_aux``, a second classification conv of
    ``atss_cls``'s shape on the classification tower, trained only by the
    distillation loss.

    The forward is ``ATSSHead``'s, untouched: ``atss_cls`` keeps the focal
    loss and makes the predictions (with the centerness branch).  Dropping
    ``atss_cls_aux`` leaves an ``ATSSHead`` checkpoint.  Both classifiers
    start from the focal-loss prior unless ``init_cfg`` says otherwise.
    ``aux_classifier=False``: no aux classifier (a main-head baseline).

    Distilled anchors: those with label weight > 0 in ATSS's own
    assignment (valid anchors, positive or negative), as its focal loss
    weighs them.
    """

    main_cls_name = 'atss_cls'

    def distilled_priors(self, cls_scores: List[Tensor],
                         batch_gt_instances: InstanceList,
                         batch_img_metas: List[dict],
                         batch_gt_instances_ignore: OptInstanceList = None
                         ) -> Tensor:
        """Runs ``ATSSHead.loss_by_feat``'s assignment again.  Unlike
        ``AnchorHead``'s, ATSS's ``get_targets`` returns the anchors first:
        ``(anchors, labels, label_weights, bbox_targets, bbox_weights,
        avg_factor)``."""
        featmap_sizes = [s.shape[-2:] for s in cls_scores]
        anchors, valid_flags = self.get_anchors(
            featmap_sizes, batch_img_metas, device=cls_scores[0].device)
        _anchors, _labels, label_weights, *_ = self.get_targets(
            anchors, valid_flags, batch_gt_instances, batch_img_metas,
            batch_gt_instances_ignore=batch_gt_instances_ignore)
        return torch.cat(label_weights, 1).reshape(-1) > 0
