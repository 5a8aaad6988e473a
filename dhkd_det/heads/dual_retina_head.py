"""RetinaNet's head with DHKD's auxiliary classifier ``retina_cls_aux``."""
from typing import List

import torch
from mmdet.models.dense_heads import AnchorHead, RetinaHead
from mmdet.registry import MODELS
from mmdet.utils import InstanceList, OptInstanceList
from torch import Tensor

from .dense import DistillDenseHead, per_prior_logits

#: the name the per-prior flattening had when RetinaNet was the one dense
#: head (kept for callers of this module)
per_anchor_logits = per_prior_logits


@MODELS.register_module()
class DualRetinaHead(DistillDenseHead, RetinaHead):
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
    says otherwise.  ``aux_classifier=False``: no aux classifier (a
    main-head baseline).  Distilled anchors: ``distilled_anchors``.
    """

    main_cls_name = 'retina_cls'

    def distilled_priors(self, cls_scores: List[Tensor],
                         batch_gt_instances: InstanceList,
                         batch_img_metas: List[dict],
                         batch_gt_instances_ignore: OptInstanceList = None
                         ) -> Tensor:
        return distilled_anchors(self, cls_scores, batch_gt_instances,
                                 batch_img_metas, batch_gt_instances_ignore)


def distilled_anchors(head: AnchorHead, cls_scores: List[Tensor],
                      batch_gt_instances: InstanceList,
                      batch_img_metas: List[dict],
                      batch_gt_instances_ignore: OptInstanceList = None
                      ) -> Tensor:
    """Boolean mask (M,), in the order of ``per_prior_logits``, of the
    anchors an ``AnchorHead``'s classification loss covers: valid and
    assigned positive or negative by ``head``'s assigner (ignored anchors
    have label weight 0).

    Runs the assignment of ``head.loss_by_feat`` (a second time: the focal
    loss keeps its targets to itself).  ``AnchorHead.get_targets`` returns
    ``(labels, label_weights, bbox_targets, bbox_weights, avg_factor)``
    per level (plus per-image extras with ``return_sampling_results``).
    """
    featmap_sizes = [s.shape[-2:] for s in cls_scores]
    anchors, valid_flags = head.get_anchors(
        featmap_sizes, batch_img_metas, device=cls_scores[0].device)
    _labels, label_weights, *_ = head.get_targets(
        anchors, valid_flags, batch_gt_instances, batch_img_metas,
        batch_gt_instances_ignore=batch_gt_instances_ignore)
    return torch.cat(label_weights, 1).reshape(-1) > 0
