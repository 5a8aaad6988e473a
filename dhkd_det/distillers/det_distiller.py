"""Detection distiller: DHKD on a detector's classification branch.

Two-stage (Faster R-CNN): the teacher runs its backbone, neck and RoI box
head on the student's *sampled* RoIs (no teacher RPN, no teacher loss), so
the C+1 logits of teacher and student line up one to one.  One-stage
(RetinaNet): the teacher's head runs on its own features of the same images,
and the per-anchor sigmoid logits are compared on the anchors the student's
loss uses (valid and assigned positive or negative, not ignored).
In both the student keeps MMDetection's own losses.
"""
import copy
from contextlib import contextmanager
from typing import Dict, NamedTuple, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmdet.models.dense_heads import AnchorHead
from mmdet.models.detectors import BaseDetector
from mmdet.models.utils import unpack_gt_instances
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmengine.registry import DefaultScope
from torch import Tensor

from ..heads.dual_retina_head import distilled_anchors, per_anchor_logits
from ..losses import DKDLoss
from ..ops import check_ops_device
from .base import BaseDistiller

Logits = Dict[str, Optional[Tensor]]


class KeptAnchors(NamedTuple):
    """The anchors a one-stage distillation loss covers, in the order of
    ``per_anchor_logits``: ``mask`` (M,) bool over all anchors, ``index``
    (K,) the positions where it is True."""
    mask: Tensor
    index: Tensor


@MODELS.register_module()
class DetDistiller(BaseDistiller, BaseDetector):
    """A student detector distilled from a frozen teacher detector.

    DHKD (two-stage)::

        student=<Faster R-CNN with roi_head.type='DualStandardRoIHead' and
                 roi_head.bbox_head.type='DualShared2FCBBoxHead'>,
        teacher='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py',
        distill_losses=dict(aux=dict(type='BinaryKLNormLoss', temperature=2))

    One-stage: a RetinaNet student with ``bbox_head.type='DualRetinaHead'``.
    Baselines put a ``KDLoss`` / ``DKDLoss`` on the 'main' head of a student
    without aux classifier instead (two-stage: ``DualStandardRoIHead`` over a
    plain ``Shared2FCBBoxHead``, which hands over the sampled RoIs).
    Prediction is the student's own, main head only.

    Args:
        student: config of the student detector.
        teacher: the teacher's model config, config file path or ``mmdet::``
            config name; same classes, same input normalisation and, for
            one-stage, the same anchors as the student.
        teacher_ckpt: its checkpoint (path or URL), loaded lazily.
        distill_losses: ``{'aux' | 'main': loss_cfg}``.
        data_preprocessor: defaults to the student's.
    """

    def __init__(self,
                 student: dict,
                 teacher: Union[dict, str, None] = None,
                 teacher_ckpt: Optional[str] = None,
                 distill_losses: Optional[Dict[str, dict]] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        data_preprocessor = data_preprocessor or student.get(
            'data_preprocessor') or dict(type='DetDataPreprocessor')
        with _default_scope('mmdet'):
            super().__init__(teacher=teacher, teacher_ckpt=teacher_ckpt,
                             distill_losses=distill_losses,
                             data_preprocessor=data_preprocessor,
                             init_cfg=init_cfg)
            self.student = MODELS.build(student)
        self.two_stage = _is_two_stage(self.student)
        self.has_aux = _has_aux(self.student)
        self._check()

    def _apply(self, fn, *args, **kwargs):
        # the runner moves the model to its device before the first
        # iteration: refuse there a CUDA device that mmcv's ops cannot serve
        super()._apply(fn, *args, **kwargs)
        param = next(self.parameters(), None)
        if param is not None:
            check_ops_device(param.device)
        return self

    # ----- checks at build time ------------------------------------------
    def _check(self) -> None:
        for head in self.distill_losses:
            if head not in ('main', 'aux'):
                raise KeyError(f'model.distill_losses has a loss for head '
                               f"{head!r}; heads are ('main', 'aux')")
        if 'aux' in self.distill_losses and not self.has_aux:
            raise ValueError(
                "model.distill_losses['aux'] needs a student with an aux "
                "classifier: roi_head.type='DualStandardRoIHead' with "
                "bbox_head.type='DualShared2FCBBoxHead', or "
                "bbox_head.type='DualRetinaHead'")
        if self.has_aux and 'aux' not in self.distill_losses:
            raise ValueError(
                'the student has an aux classifier but model.distill_losses '
                "has no 'aux' loss, so it would never be trained: add one, "
                'or use the plain head type in model.student')
        if self.distill_losses and self.two_stage and not hasattr(
                self.student.roi_head, 'loss_and_bbox_results'):
            raise TypeError(
                "distillation needs the student's sampled RoIs: set "
                "roi_head.type='DualStandardRoIHead' in model.student (over "
                "a plain Shared2FCBBoxHead for main-head KD / DKD baselines)")
        if not self.two_stage and any(isinstance(fn, DKDLoss)
                                      for fn in self.distill_losses.values()):
            raise ValueError('DKDLoss needs softmax logits with a background '
                             'class: use it with a two-stage student')
        if self.teacher is None:
            return
        if _is_two_stage(self.teacher) != self.two_stage:
            kinds = ('one-stage', 'two-stage')
            raise TypeError(
                f'the student is a {kinds[self.two_stage]} detector but the '
                f'teacher ({type(self.teacher).__name__}) is '
                f'{kinds[not self.two_stage]}: model.teacher must be of the '
                "student's kind so their logits line up")
        t, s = _num_classes(self.teacher), _num_classes(self.student)
        if t != s:
            raise ValueError(
                f'the teacher detects {t} classes but the student {s}: set '
                'the same num_classes in model.teacher and model.student '
                "(the data set's class count)")
        _check_same_normalisation(self.teacher.data_preprocessor,
                                  self.data_preprocessor)

    # ----- BaseDetector interface ----------------------------------------
    def extract_feat(self, batch_inputs: Tensor) -> Tuple[Tensor]:
        return self.student.extract_feat(batch_inputs)

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: Optional[SampleList] = None) -> tuple:
        return self.student._forward(batch_inputs, batch_data_samples)

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """The student's own prediction (main head only)."""
        return self.student.predict(batch_inputs, batch_data_samples,
                                    rescale=rescale)

    def loss(self, batch_inputs: Tensor,
             batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """The student's MMDetection losses plus the distillation losses
        (scaled by ``distill_scale``)."""
        if not self.distill_losses:
            return self.student.loss(batch_inputs, batch_data_samples)
        student_pass = self._two_stage_student if self.two_stage \
            else self._one_stage_student
        losses, logits, target, where = student_pass(batch_inputs,
                                                     batch_data_samples)
        if self.distill_scale == 0:
            losses.update(self.zero_distill_losses(logits))
            return losses
        t_logits = self.teacher_logits(batch_inputs, where)
        losses.update(self.scaled_distill_losses(logits, t_logits, target))
        if self.log_agreement:
            losses['teacher_agree'] = self.agreement(logits['main'].detach(),
                                                     t_logits)
        return losses

    # ----- student passes: (losses, logits by head, labels, where) -------
    def _two_stage_student(self, inputs: Tensor, data_samples: SampleList
                           ) -> Tuple[dict, Logits, Tensor, Tensor]:
        """``TwoStageDetector.loss``, keeping the box results of the sampled
        RoIs; ``where`` is those RoIs (n, 5)."""
        student = self.student
        x = student.extract_feat(inputs)
        losses = {}
        if student.with_rpn:
            proposal_cfg = student.train_cfg.get('rpn_proposal',
                                                 student.test_cfg.rpn)
            rpn_data_samples = copy.deepcopy(data_samples)
            for sample in rpn_data_samples:
                sample.gt_instances.labels = torch.zeros_like(
                    sample.gt_instances.labels)
            rpn_losses, rpn_results_list = student.rpn_head.loss_and_predict(
                x, rpn_data_samples, proposal_cfg=proposal_cfg)
            losses.update({
                f'rpn_{k}' if 'loss' in k and 'rpn' not in k else k: v
                for k, v in rpn_losses.items()
            })
        else:
            rpn_results_list = [s.proposals for s in data_samples]
        roi_losses, bbox_results = student.roi_head.loss_and_bbox_results(
            x, rpn_results_list, data_samples)
        losses.update(roi_losses)
        logits = dict(main=bbox_results['cls_score'],
                      aux=bbox_results.get('cls_score_aux'))
        return losses, logits, bbox_results['labels'], bbox_results['rois']

    def _one_stage_student(self, inputs: Tensor, data_samples: SampleList
                           ) -> Tuple[dict, Logits, None, KeptAnchors]:
        """``SingleStageDetector.loss`` with the aux logits; ``where`` is the
        anchors the loss covers, as a mask and as indices."""
        head = self.student.bbox_head
        x = self.student.extract_feat(inputs)
        gt_instances, gt_ignore, img_metas = unpack_gt_instances(data_samples)
        outs = head(x, with_aux=True) if self.has_aux else head(x)
        losses = head.loss_by_feat(outs[0], outs[1], gt_instances, img_metas,
                                   gt_ignore)
        mask = distilled_anchors(head, outs[0], gt_instances, img_metas,
                                 gt_ignore)
        # the step's one wait for the GPU here (the count of kept anchors);
        # gathering by index then costs none, where each boolean-mask
        # selection of the student's, aux and teacher logits would wait again
        keep = KeptAnchors(mask, mask.nonzero().squeeze(1))
        channels = head.cls_out_channels
        logits = dict(
            main=per_anchor_logits(outs[0], channels).index_select(
                0, keep.index),
            aux=per_anchor_logits(outs[2], channels).index_select(
                0, keep.index) if self.has_aux else None)
        return losses, logits, None, keep

    # ----- the teacher ----------------------------------------------------
    @torch.no_grad()
    def teacher_logits(self, inputs: Tensor,
                       where: Union[Tensor, KeptAnchors]) -> Tensor:
        """Teacher logits aligned with the student's: on the RoIs ``where``
        (two-stage) or on the anchors ``where`` kept (one-stage)."""
        self.load_teacher()
        x = self.teacher.extract_feat(inputs)
        if self.two_stage:
            return self.teacher.roi_head._bbox_forward(x, where)['cls_score']
        cls_scores = self.teacher.bbox_head(x)[0]
        channels = self.teacher.bbox_head.cls_out_channels
        logits = per_anchor_logits(cls_scores, channels)
        if logits.shape[0] != where.mask.shape[0]:
            raise ValueError(
                f'the teacher head gives {logits.shape[0]} anchors for this '
                f'batch, the student {where.mask.shape[0]}: teacher and '
                'student need the same anchor_generator and feature strides')
        return logits.index_select(0, where.index)



@contextmanager
def _default_scope(scope: str):
    """Build in ``scope`` unless the caller (e.g. the Runner) set one."""
    current = DefaultScope.get_current_instance()
    with DefaultScope.overwrite_default_scope(
            None if current is not None else scope):
        yield


def _is_two_stage(detector: nn.Module) -> bool:
    if getattr(detector, 'with_roi_head', False):
        return True
    if isinstance(getattr(detector, 'bbox_head', None), AnchorHead):
        return False
    raise TypeError(
        f'{type(detector).__name__} is not supported by DetDistiller: use a '
        'two-stage detector with a StandardRoIHead (Faster R-CNN) or a '
        'single-stage detector with an anchor head (RetinaNet)')


def _has_aux(detector: nn.Module) -> bool:
    if getattr(detector, 'with_roi_head', False):
        return hasattr(detector.roi_head.bbox_head, 'fc_cls_aux')
    return hasattr(detector.bbox_head, 'retina_cls_aux')


def _num_classes(detector: nn.Module) -> int:
    head = detector.roi_head.bbox_head if getattr(
        detector, 'with_roi_head', False) else detector.bbox_head
    return head.num_classes


def _check_same_normalisation(teacher_pre: nn.Module,
                              student_pre: nn.Module) -> None:
    """Both detectors read the distiller's one preprocessed batch."""
    same = all(
        getattr(teacher_pre, attr, None) == getattr(student_pre, attr, None)
        for attr in ('_enable_normalize', '_channel_conversion'))
    if same and getattr(student_pre, '_enable_normalize', False):
        same = torch.equal(teacher_pre.mean.cpu(), student_pre.mean.cpu()) \
            and torch.equal(teacher_pre.std.cpu(), student_pre.std.cpu())
    if not same:
        raise ValueError(
            'the teacher and the student normalise images differently '
            '(data_preprocessor mean / std / bgr_to_rgb): both read the '
            "same batch, so set the teacher's data_preprocessor to "
            "model.data_preprocessor (a caffe-style teacher needs a "
            'caffe-style student)')

