"""RoI heads of a distilled two-stage student: MMDetection's own, which
also hand over, stage by stage, the RoIs their box loss sampled; and the
logits any MMDetection RoI head gives those RoIs (``stage_cls_scores``, for
the teacher)."""
from contextlib import contextmanager
from functools import partial
from typing import Callable, Iterator, List, NamedTuple, Optional, Tuple

import torch.nn as nn
from mmdet.models.roi_heads import CascadeRoIHead, StandardRoIHead
from mmdet.models.roi_heads.bbox_heads import BBoxHead
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi
from mmengine.config import ConfigDict
from torch import Tensor

from .capture import inputs_of


def stage_cls_scores(roi_head: nn.Module, stage: int, x: Tuple[Tensor],
                     rois: Tensor) -> Tensor:
    """The (n, C+1) logits of box-head stage ``stage`` of ``roi_head`` (a
    ``StandardRoIHead``, stage 0, or a ``CascadeRoIHead``) on ``rois``,
    from the features ``x``: what MMDetection's private ``_bbox_forward``
    computes (whose signature differs between the two), from the RoI
    head's public modules."""
    if isinstance(roi_head.bbox_head, nn.ModuleList):
        extractor = roi_head.bbox_roi_extractor[stage]
        bbox_head = roi_head.bbox_head[stage]
        shared_head = None  # MMDetection's cascade has none
    else:
        extractor, bbox_head = roi_head.bbox_roi_extractor, roi_head.bbox_head
        shared_head = roi_head.shared_head if roi_head.with_shared_head \
            else None
    feats = extractor(x[:extractor.num_inputs], rois)
    if shared_head is not None:
        feats = shared_head(feats)
    return bbox_head(feats)[0]


class SampledRoIs(NamedTuple):
    """One box-head stage of a training step."""
    stage: int  # index of the box head (0 for a single-stage RoI head)
    loss_prefix: str  # how the RoI head names this stage's losses
    loss_weight: float  # how it weights them
    rois: Tensor  # (n, 5) the sampled RoIs
    labels: Tensor  # (n,) their class targets, background = num_classes
    cls_score: Tensor  # (n, C+1) fc_cls's logits
    cls_feat: Tensor  # (n, d) fc_cls's input, the classification feature


class SampledRoIsRecorder:
    """Mixin of an MMDetection RoI head: inside ``recording()`` each call of
    the box loss appends a ``SampledRoIs`` to the yielded list.

    The RoI head's ``loss`` stays MMDetection's; only ``bbox_loss`` is
    wrapped, and only while recording, so prediction and plain training run
    the original code.
    """
    _recorded: Optional[List[SampledRoIs]] = None

    @contextmanager
    def recording(self) -> Iterator[List[SampledRoIs]]:
        self._recorded = []
        try:
            yield self._recorded
        finally:
            self._recorded = None

    def _record_bbox_loss(self, bbox_loss: Callable[..., dict],
                          stage: int, loss_prefix: str, loss_weight: float,
                          bbox_head: BBoxHead, rcnn_train_cfg: ConfigDict,
                          x: Tuple[Tensor],
                          sampling_results: List[SamplingResult]) -> dict:
        if self._recorded is None:
            return bbox_loss(x, sampling_results)
        with inputs_of(bbox_head.fc_cls) as cls_feats:
            bbox_results = bbox_loss(x, sampling_results)
        # the RoIs and labels the box loss used, recomputed as it does (the
        # single-stage RoI head does not return them)
        self._recorded.append(SampledRoIs(
            stage=stage, loss_prefix=loss_prefix, loss_weight=loss_weight,
            rois=bbox2roi([res.priors for res in sampling_results]),
            labels=bbox_head.get_targets(sampling_results,
                                         rcnn_train_cfg)[0],
            cls_score=bbox_results['cls_score'], cls_feat=cls_feats[0]))
        return bbox_results


@MODELS.register_module()
class DualStandardRoIHead(SampledRoIsRecorder, StandardRoIHead):
    """``StandardRoIHead`` (Faster R-CNN) handing over its sampled RoIs.

    Over a dual box head (``DualShared2FCBBoxHead``, ...) it serves DHKD;
    over a plain one, the KD / DKD baselines on the main head."""

    def bbox_loss(self, x: Tuple[Tensor],
                  sampling_results: List[SamplingResult]) -> dict:
        return self._record_bbox_loss(
            super().bbox_loss, 0, '', 1.0, self.bbox_head, self.train_cfg,
            x, sampling_results)


@MODELS.register_module()
class DualCascadeRoIHead(SampledRoIsRecorder, CascadeRoIHead):
    """``CascadeRoIHead`` (Cascade R-CNN) handing over each stage's sampled
    RoIs, with MMDetection's stage loss names (``s0.``) and weights
    (``stage_loss_weights``)."""

    def bbox_loss(self, stage: int, x: Tuple[Tensor],
                  sampling_results: List[SamplingResult]) -> dict:
        return self._record_bbox_loss(
            partial(super().bbox_loss, stage), stage, f's{stage}.',
            self.stage_loss_weights[stage], self.bbox_head[stage],
            self.train_cfg[stage], x, sampling_results)
