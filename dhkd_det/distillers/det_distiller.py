"""Detection distiller: DHKD on a detector's classification branch.

The student's losses are MMDetection's own: the distiller calls
``student.loss`` and collects, on the way, the logits and the classification
features the distillation needs (see ``heads/capture.py``).

Two-stage (Faster R-CNN, Cascade R-CNN): the teacher runs its backbone, neck
and box head of stage i on the RoIs the student's stage i *sampled* (no
teacher RPN, no teacher loss), so the C+1 logits of teacher and student line
up one to one, stage by stage.  One-stage (RetinaNet, ATSS, FCOS): the
teacher's head runs on its own features of the same images, and the
per-prior (anchor or point) sigmoid logits are compared on the priors the
student's classification loss covers, which the student's head names
through ``DistillDenseHead`` (``heads/dense.py``): the distiller knows no
head's attribute names nor what its ``get_targets`` returns.
"""
from contextlib import ExitStack, contextmanager
from typing import Dict, List, NamedTuple, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmdet.models.dense_heads.base_dense_head import BaseDenseHead
from mmdet.models.detectors import BaseDetector
from mmdet.models.utils import unpack_gt_instances
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmengine.registry import DefaultScope
from torch import Tensor

from ..heads.capture import outputs_of
from ..heads.dense import (dense_cls_scores, distill_interface,
                           per_prior_logits)
from ..heads.dual_roi_head import SampledRoIs, stage_cls_scores
from ..losses import DKDLoss
from ..models.dual_head import named_aux_modules
from ..ops import check_ops_device
from .base import BaseDistiller, Distilled


class KeptAnchors(NamedTuple):
    """The priors (anchors or points) a one-stage distillation loss covers,
    in the order of ``per_prior_logits``: ``mask`` (M,) bool over all
    priors, ``index`` (K,) the positions where it is True."""
    mask: Tensor
    index: Tensor


#: a group's ``where``: (stage, its sampled RoIs) | the kept anchors
Where = Union[Tuple[int, Tensor], KeptAnchors]


@MODELS.register_module()
class DetDistiller(BaseDistiller, BaseDetector):
    """A student detector distilled from a frozen teacher detector.

    DHKD (two-stage)::

        student=<Faster R-CNN with roi_head.type='DualStandardRoIHead' and
                 roi_head.bbox_head.type='DualShared2FCBBoxHead'>,
        teacher='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py',
        distill_losses=dict(aux=dict(type='BinaryKLNormLoss', temperature=2))

    Any ConvFC box head has a dual version (``DualConvFCBBoxHead``,
    ``DualShared2FCBBoxHead``, ``DualShared4Conv1FCBBoxHead``).  Cascade
    R-CNN: ``roi_head.type='DualCascadeRoIHead'`` with a dual box head in
    every stage and a Cascade R-CNN teacher of as many stages; stage i is
    distilled on its own sampled RoIs, logged as ``s{i}.loss_<loss>_aux``
    and weighted by ``stage_loss_weights[i]`` like MMDetection's stage
    losses.  One-stage: a RetinaNet, ATSS or FCOS student with
    ``bbox_head.type='DualRetinaHead'``, ``'DualATSSHead'`` or
    ``'DualFCOSHead'``, or any dense head implementing
    ``DistillDenseHead``.
    Baselines put a ``KDLoss`` / ``DKDLoss`` on the 'main' head of a student
    without aux classifier instead (two-stage: ``DualStandardRoIHead`` /
    ``DualCascadeRoIHead`` over plain box heads, which hand over the
    sampled RoIs).  Prediction is the student's own, main head only.

    Args:
        student: config of the student detector.
        teacher: the teacher's model config, config file path or ``mmdet::``
            config name; same classes, same input normalisation, for
            two-stage the same number of box-head stages and for one-stage
            the same anchors or points as the student.
        teacher_ckpt: its checkpoint (path or URL), loaded lazily.
        teacher_ckpt_ema: load the checkpoint's mmcv 1.x EMA weights
            (True) or its plain ones (False); see ``BaseDistiller``.
        distill_losses: ``{'aux' | 'main': loss_cfg}``.
        data_preprocessor: defaults to the student's.
        cuda_graph: refused: proposals and sampled RoIs change in number
            from batch to batch, so the step cannot be captured.
        distill_rois: two-stage, which sampled RoIs are distilled: 'all'
            (the default), or 'foreground', those the sampler matched to
            an object (most sampled RoIs are background, whose logits
            then dominate the distillation loss).  A stage with no
            foreground RoI in the batch adds zero distillation loss.
    """

    #: the choices of ``distill_rois``
    DISTILL_ROIS = ('all', 'foreground')

    def __init__(self,
                 student: dict,
                 teacher: Union[dict, str, None] = None,
                 teacher_ckpt: Optional[str] = None,
                 distill_losses: Optional[Dict[str, dict]] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 cuda_graph: bool = False,
                 distill_rois: str = 'all',
                 teacher_ckpt_ema: Optional[bool] = None):
        if distill_rois not in self.DISTILL_ROIS:
            raise ValueError(f'model.distill_rois must be one of '
                             f'{self.DISTILL_ROIS}, got {distill_rois!r}')
        data_preprocessor = data_preprocessor or student.get(
            'data_preprocessor') or dict(type='DetDataPreprocessor')
        with _default_scope('mmdet'):
            super().__init__(teacher=teacher, teacher_ckpt=teacher_ckpt,
                             teacher_ckpt_ema=teacher_ckpt_ema,
                             distill_losses=distill_losses,
                             data_preprocessor=data_preprocessor,
                             init_cfg=init_cfg, cuda_graph=cuda_graph)
            self.student = MODELS.build(student)
        self.two_stage = _is_two_stage(self.student)
        self.distill_rois = distill_rois
        self.has_aux = _has_aux(self.student)
        self._check()

    #: how to give the student the aux classifier a loss config names
    aux_head_fix = (
        "roi_head.type='DualStandardRoIHead' (or 'DualCascadeRoIHead') with "
        "a dual box head such as bbox_head.type='DualShared2FCBBoxHead' in "
        "every stage, or bbox_head.type='DualRetinaHead' (ATSS: "
        "'DualATSSHead', FCOS: 'DualFCOSHead')")

    def _apply(self, fn, *args, **kwargs):
        # the runner moves the model to its device before the first
        # iteration: refuse there a CUDA device that mmcv's ops cannot serve
        super()._apply(fn, *args, **kwargs)
        param = next(self.parameters(), None)
        if param is not None:
            check_ops_device(param.device)
        return self

    @staticmethod
    def class_count(model: nn.Module) -> int:
        head = _box_heads(model)[-1] if getattr(
            model, 'with_roi_head', False) else model.bbox_head
        return head.num_classes

    def main_classifiers(self) -> List[nn.Module]:
        """``fc_cls`` of every box-head stage, or the dense head's
        ``main_classifier()`` (RetinaNet's ``retina_cls``, ...):
        MMDetection's classifiers."""
        if self.two_stage:
            return [head.fc_cls for head in _box_heads(self.student)]
        return [distill_interface(self.student.bbox_head,
                                  'the student head').main_classifier()]

    def student_backbone(self) -> nn.Module:
        return self.student.backbone

    # ----- checks at build time ------------------------------------------
    def _check(self) -> None:
        self.check_distillation()
        if self.has_aux and 'aux' not in self.distill_losses:
            raise ValueError(
                'the student has an aux classifier but model.distill_losses '
                "has no 'aux' loss, so it would never be trained: add one, "
                'or use the plain head type in model.student')
        if self.distill_losses and self.two_stage and not hasattr(
                self.student.roi_head, 'recording'):
            raise TypeError(
                "distillation needs the student's sampled RoIs: set "
                "roi_head.type='DualStandardRoIHead' (Cascade R-CNN: "
                "'DualCascadeRoIHead') in model.student, over plain box "
                'heads for main-head KD / DKD baselines')
        if not self.two_stage and self.distill_rois != 'all':
            raise ValueError(
                f"model.distill_rois={self.distill_rois!r} selects sampled "
                'RoIs of a two-stage student; a one-stage student distils '
                "its kept anchors: remove it (or set 'all')")
        if not self.two_stage and any(isinstance(fn, DKDLoss)
                                      for fn in self.distill_losses.values()):
            raise ValueError('DKDLoss needs softmax logits with a background '
                             'class: use it with a two-stage student')
        if self.distill_losses and not self.two_stage:
            distill_interface(self.student.bbox_head,
                              'the student head (model.student.bbox_head)')
        if self.teacher is None:
            return
        if _is_two_stage(self.teacher) != self.two_stage:
            kinds = ('one-stage', 'two-stage')
            raise TypeError(
                f'the student is a {kinds[self.two_stage]} detector but the '
                f'teacher ({type(self.teacher).__name__}) is '
                f'{kinds[not self.two_stage]}: model.teacher must be of the '
                "student's kind so their logits line up")
        if self.two_stage:
            t, s = (len(_box_heads(m)) for m in (self.teacher, self.student))
            if t != s:
                raise ValueError(
                    f"the teacher's RoI head has {t} box-head stage(s), the "
                    f"student's {s}: the teacher's stage i runs on the "
                    "student's stage-i RoIs, so distil a Cascade R-CNN from "
                    'a Cascade R-CNN with the same num_stages (and a '
                    'single-stage RoI head from a single-stage one)')
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

    # ----- the student pass: (the student's losses, what is distilled) ---
    def student_pass(self, inputs: Tensor, data_samples: SampleList
                     ) -> Tuple[dict, List[Distilled]]:
        """``student.loss``, and the groups of logits it distils: one per
        box-head stage (two-stage) or the kept anchors (one-stage)."""
        if not self.distill_losses:
            return self.student.loss(inputs, data_samples), []
        if self.two_stage:
            return self._two_stage_student(inputs, data_samples)
        return self._one_stage_student(inputs, data_samples)

    def _two_stage_student(self, inputs: Tensor, data_samples: SampleList
                           ) -> Tuple[dict, List[Distilled]]:
        """``student.loss``; per box-head stage, the logits of the sampled
        RoIs, where = (stage, RoIs)."""
        with self.student.roi_head.recording() as stages:
            losses = self.student.loss(inputs, data_samples)
        box_heads = _box_heads(self.student)
        if self.distill_rois == 'foreground':
            stages = [_foreground(stage, box_heads[stage.stage].num_classes)
                      for stage in stages]
        # the aux classifier runs after the student's loss, so that its
        # random ops (the nonlinear head's dropout) leave the sampling of
        # later stages as in plain training
        return losses, [
            Distilled(
                logits=dict(main=stage.cls_score,
                            aux=box_heads[stage.stage].aux_cls_scores(
                                stage.cls_feat) if self.has_aux else None),
                target=stage.labels, where=(stage.stage, stage.rois),
                loss_prefix=stage.loss_prefix, loss_weight=stage.loss_weight)
            for stage in stages
        ]

    def _one_stage_student(self, inputs: Tensor, data_samples: SampleList
                           ) -> Tuple[dict, List[Distilled]]:
        """``student.loss``; the logits of the priors (anchors or points)
        its classification loss covers, where = those priors
        (``KeptAnchors``), as the head says (``DistillDenseHead``)."""
        head = distill_interface(self.student.bbox_head, 'the student head')
        with ExitStack() as stack:
            outs = stack.enter_context(outputs_of(head))
            cls_feats = stack.enter_context(
                head.recording_cls_feats()) if self.has_aux else None
            losses = self.student.loss(inputs, data_samples)
        cls_scores = dense_cls_scores(outs[0])
        gt_instances, gt_ignore, img_metas = unpack_gt_instances(data_samples)
        mask = head.distilled_priors(cls_scores, gt_instances, img_metas,
                                     gt_ignore)
        # the step's one wait for the GPU here (the count of kept anchors);
        # gathering by index then costs none, where each boolean-mask
        # selection of the student's, aux and teacher logits would wait again
        keep = KeptAnchors(mask, mask.nonzero().squeeze(1))
        channels = head.cls_out_channels
        aux = None
        if self.has_aux:
            aux = per_prior_logits(head.aux_cls_scores(cls_feats),
                                   channels).index_select(0, keep.index)
        logits = dict(main=per_prior_logits(cls_scores, channels)
                      .index_select(0, keep.index), aux=aux)
        return losses, [Distilled(logits=logits, target=None, where=keep)]

    # ----- the teacher ----------------------------------------------------
    @torch.no_grad()
    def teacher_logits(self, inputs: Tensor,
                       wheres: List[Where]) -> List[Tensor]:
        """Teacher logits aligned with the student's, one tensor per entry of
        ``wheres``: on the RoIs of ``(stage, rois)`` by the teacher's box head
        of that stage (two-stage), or on the ``KeptAnchors``."""
        self.load_teacher()
        x = self.teacher.extract_feat(inputs)
        if self.two_stage:
            return [stage_cls_scores(self.teacher.roi_head, stage, x, rois)
                    for stage, rois in wheres]
        cls_scores = dense_cls_scores(self.teacher.bbox_head(x))
        channels = self.teacher.bbox_head.cls_out_channels
        logits = per_prior_logits(cls_scores, channels)
        (keep, ) = wheres
        if logits.shape[0] != keep.mask.shape[0]:
            raise ValueError(
                f'the teacher head gives {logits.shape[0]} anchors (or '
                f'points) for this batch, the student {keep.mask.shape[0]}: '
                'teacher and student need the same anchor_generator (or '
                'prior_generator) and feature strides')
        return [logits.index_select(0, keep.index)]


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
    if isinstance(getattr(detector, 'bbox_head', None), BaseDenseHead):
        return False
    raise TypeError(
        f'{type(detector).__name__} is not supported by DetDistiller: use a '
        'two-stage detector with a StandardRoIHead (Faster R-CNN) or a '
        'CascadeRoIHead (Cascade R-CNN), or a single-stage detector with a '
        'dense head, anchor-based or anchor-free (RetinaNet, ATSS, FCOS)')


def _foreground(stage: SampledRoIs, num_classes: int) -> SampledRoIs:
    """``stage`` with its background RoIs (label ``num_classes``) left
    out."""
    keep = (stage.labels < num_classes).nonzero().squeeze(1)
    return stage._replace(rois=stage.rois[keep], labels=stage.labels[keep],
                          cls_score=stage.cls_score[keep],
                          cls_feat=stage.cls_feat[keep])


def _box_heads(detector: nn.Module) -> List[nn.Module]:
    """The box head of each stage of a two-stage detector's RoI head."""
    heads = detector.roi_head.bbox_head
    return list(heads) if isinstance(heads, nn.ModuleList) else [heads]


def _has_aux(detector: nn.Module) -> bool:
    """Whether the detector's heads declare aux classifiers
    (``aux_module_names()``): the dense head, or every box-head stage."""
    if not getattr(detector, 'with_roi_head', False):
        return bool(named_aux_modules(detector.bbox_head))
    dual = [bool(named_aux_modules(head)) for head in _box_heads(detector)]
    if any(dual) and not all(dual):
        plain = [i for i, d in enumerate(dual) if not d]
        raise ValueError(
            f'the box heads of stages {plain} have no aux classifier while '
            'the others have one: give every stage a dual box head (e.g. '
            "type='DualShared2FCBBoxHead'), so that every stage is distilled")
    return all(dual)


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

