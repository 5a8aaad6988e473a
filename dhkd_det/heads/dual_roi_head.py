"""The RoI head of a DHKD student: a ``StandardRoIHead`` whose training
forward also returns the aux logits and the sampled RoIs they belong to."""
from typing import List, Tuple

from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.models.utils import unpack_gt_instances
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi
from mmdet.utils import InstanceList
from torch import Tensor


@MODELS.register_module()
class DualStandardRoIHead(StandardRoIHead):
    """``StandardRoIHead`` over a dual box head (``DualShared2FCBBoxHead``).

    Training adds ``cls_score_aux`` beside ``cls_score`` / ``bbox_pred`` in
    the box results, together with the sampled ``rois`` (n, 5) and their
    ``labels`` (n,), so that a distiller can run the teacher's box head on
    exactly these RoIs.  Testing (``predict``, ``forward``) is
    ``StandardRoIHead``'s and never evaluates the aux classifier.

    Over a plain ``Shared2FCBBoxHead`` it only exposes the sampled RoIs
    (students of the KD / DKD baselines on the main head).
    """

    @property
    def has_aux(self) -> bool:
        return hasattr(self.bbox_head, 'fc_cls_aux')

    def _bbox_forward(self, x: Tuple[Tensor], rois: Tensor,
                      with_aux: bool = False) -> dict:
        """``StandardRoIHead._bbox_forward``; with ``with_aux`` the result
        also holds ``cls_score_aux``."""
        bbox_feats = self.bbox_roi_extractor(
            x[:self.bbox_roi_extractor.num_inputs], rois)
        if self.with_shared_head:
            bbox_feats = self.shared_head(bbox_feats)
        outs = self.bbox_head(bbox_feats, with_aux=True) if with_aux \
            else self.bbox_head(bbox_feats)
        results = dict(cls_score=outs[0], bbox_pred=outs[1],
                       bbox_feats=bbox_feats)
        if with_aux:
            results['cls_score_aux'] = outs[2]
        return results

    def sample(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
               batch_data_samples: SampleList) -> List[SamplingResult]:
        """Assign the proposals to the ground truth and sample the RoIs of
        the box loss, as ``StandardRoIHead.loss`` does."""
        assert len(rpn_results_list) == len(batch_data_samples)
        batch_gt_instances, batch_gt_instances_ignore, _ = \
            unpack_gt_instances(batch_data_samples)
        sampling_results = []
        for i, rpn_results in enumerate(rpn_results_list):
            rpn_results.priors = rpn_results.pop('bboxes')
            assign_result = self.bbox_assigner.assign(
                rpn_results, batch_gt_instances[i],
                batch_gt_instances_ignore[i])
            sampling_results.append(
                self.bbox_sampler.sample(
                    assign_result,
                    rpn_results,
                    batch_gt_instances[i],
                    feats=[lvl_feat[i][None] for lvl_feat in x]))
        return sampling_results

    def bbox_loss(self, x: Tuple[Tensor],
                  sampling_results: List[SamplingResult]) -> dict:
        """``StandardRoIHead.bbox_loss`` (the main head's own losses), the
        result also holding ``cls_score_aux``, ``rois`` and ``labels``
        (background = num_classes)."""
        rois = bbox2roi([res.priors for res in sampling_results])
        bbox_results = self._bbox_forward(x, rois, with_aux=self.has_aux)
        loss_and_target = self.bbox_head.loss_and_target(
            cls_score=bbox_results['cls_score'],
            bbox_pred=bbox_results['bbox_pred'],
            rois=rois,
            sampling_results=sampling_results,
            rcnn_train_cfg=self.train_cfg)
        bbox_results.update(rois=rois,
                            labels=loss_and_target['bbox_targets'][0],
                            loss_bbox=loss_and_target['loss_bbox'])
        return bbox_results

    def loss_and_bbox_results(self, x: Tuple[Tensor],
                              rpn_results_list: InstanceList,
                              batch_data_samples: SampleList
                              ) -> Tuple[dict, dict]:
        """The losses of ``loss`` and the box results of the sampled RoIs
        (see ``bbox_loss``)."""
        sampling_results = self.sample(x, rpn_results_list,
                                       batch_data_samples)
        bbox_results = self.bbox_loss(x, sampling_results)
        losses = dict(bbox_results['loss_bbox'])
        if self.with_mask:
            batch_gt_instances = unpack_gt_instances(batch_data_samples)[0]
            mask_results = self.mask_loss(x, sampling_results,
                                          bbox_results['bbox_feats'],
                                          batch_gt_instances)
            losses.update(mask_results['loss_mask'])
        return losses, bbox_results

    def loss(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
             batch_data_samples: SampleList) -> dict:
        return self.loss_and_bbox_results(x, rpn_results_list,
                                          batch_data_samples)[0]
