"""The interface ``DetDistiller`` asks of a one-stage (dense) head.

A dense head is distilled per prior (anchor or point): the student's
per-prior classification logits, those of its aux classifier and the
teacher's, on the priors the head's own classification loss covers.  Only
the head knows which classifier is MMDetection's, what its ``get_targets``
returns and where the label weights are, so the distiller asks it through
``DistillDenseHead`` and names no head attribute and no target index.

A new dense head subclasses MMDetection's head and this mixin, names its
main classifier (``main_cls_name``) and implements ``distilled_priors``;
the aux classifier (``<main_cls_name>_aux``, the same conv as the main
one), its recording and its logits come with the mixin.
"""
from abc import ABCMeta, abstractmethod
from contextlib import contextmanager
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmdet.utils import InstanceList, OptInstanceList
from torch import Tensor

from .capture import inputs_of

#: a dense dual head's default ``init_cfg``: MMDetection's, with the
#: focal-loss prior on the main classifier and on the aux one if it has one
FOCAL_PRIOR = 'focal_prior'


class DistillDenseHead(metaclass=ABCMeta):
    """Mixin of a dual dense head: MMDetection's head plus an aux
    classifier, and what the distiller asks of it.

    Subclasses list it before MMDetection's head
    (``class DualATSSHead(DistillDenseHead, ATSSHead)``), set
    ``main_cls_name`` to the attribute of MMDetection's classification conv
    (``'retina_cls'``, ``'atss_cls'``, ``'conv_cls'``) and implement
    ``distilled_priors``; the mixin's ``__init__`` takes
    ``aux_classifier`` and hands MMDetection's the ``init_cfg``
    (``FOCAL_PRIOR`` by default: the focal-loss prior), and its
    ``_init_layers`` adds the aux classifier after MMDetection's layers.
    ``aux_classifier=False`` leaves the head
    MMDetection's exactly (no aux classifier) while it still names its
    priors: a one-stage student for a main-head baseline (KD on
    MMDetection's classifier).

    The distiller calls:

    - ``main_classifier()``: MMDetection's classifier (its gradient is
      measured by the diagnostics);
    - ``recording_cls_feats()``: a context collecting each level's input of
      the main classifier while the detector computes its own losses;
    - ``aux_cls_scores(cls_feats)``: the aux classifier's per-level logits
      on those features;
    - ``distilled_priors(cls_scores, ...)``: the boolean mask of the priors
      the head's classification loss covers, in the order of
      ``per_prior_logits``.
    """

    #: the attribute of MMDetection's classification conv
    main_cls_name: str = ''
    #: whether the head has the aux classifier (``aux_classifier``)
    with_aux: bool = True

    def __init__(self, *args, aux_classifier: bool = True,
                 init_cfg: Union[dict, str, None] = FOCAL_PRIOR,
                 **kwargs) -> None:
        super().__init__(
            *args, init_cfg=self._init_dense(aux_classifier, init_cfg),
            **kwargs)

    def _init_layers(self) -> None:
        super()._init_layers()
        self._add_aux_classifier()

    def _init_dense(self, aux_classifier: bool,
                    init_cfg: Union[dict, str, None]) -> Optional[dict]:
        """Called before MMDetection's ``__init__`` (which builds the
        layers): records ``aux_classifier`` and returns the ``init_cfg`` to
        hand over, ``FOCAL_PRIOR`` made the focal-loss prior on the
        classifiers the head has."""
        self.with_aux = bool(aux_classifier)
        if init_cfg == FOCAL_PRIOR:
            return prior_init_cfg(self.main_cls_name, self.with_aux)
        return init_cfg

    @property
    def aux_cls_name(self) -> str:
        return f'{self.main_cls_name}_aux'

    def _add_aux_classifier(self) -> None:
        """The aux classifier (if the head has one): a conv of the main
        one's shape, on the same classification feature."""
        if not self.with_aux:
            return
        main = self.main_classifier()
        setattr(self, self.aux_cls_name, nn.Conv2d(
            main.in_channels, main.out_channels, main.kernel_size,
            stride=main.stride, padding=main.padding))

    def main_classifier(self) -> nn.Module:
        """MMDetection's classification conv (trained by the task loss,
        predicts)."""
        return getattr(self, self.main_cls_name)

    def aux_module_names(self) -> Tuple[str, ...]:
        return (self.aux_cls_name, ) if self.with_aux else ()

    @contextmanager
    def recording_cls_feats(self) -> Iterator[List[Tensor]]:
        """Yields a list that receives, while the context is active, every
        level's classification feature (the class tower's output, the main
        classifier's input) of each forward of the head."""
        with inputs_of(self.main_classifier()) as feats:
            yield feats

    def aux_cls_scores(self, cls_feats: List[Tensor]) -> List[Tensor]:
        """The aux classifier's per-level logits, shaped as the main
        classifier's, of the per-level classification features."""
        aux = getattr(self, self.aux_cls_name)
        return [aux(feat) for feat in cls_feats]

    @abstractmethod
    def distilled_priors(self, cls_scores: List[Tensor],
                         batch_gt_instances: InstanceList,
                         batch_img_metas: List[dict],
                         batch_gt_instances_ignore: OptInstanceList = None
                         ) -> Tensor:
        """Boolean mask (M,), in the order of ``per_prior_logits``, of the
        priors (anchors or points) the head's classification loss covers
        for this batch (e.g. label weight > 0)."""


def prior_init_cfg(main_cls_name: str, with_aux: bool = True) -> dict:
    """MMDetection's init of a dense head (normal, std 0.01) with the
    focal-loss prior (bias for p = 0.01) on the main classifier
    ``main_cls_name`` and, ``with_aux``, its aux ``<main_cls_name>_aux``."""
    prior = dict(type='Normal', std=0.01, bias_prob=0.01)
    names = [main_cls_name] + [f'{main_cls_name}_aux'] * with_aux
    return dict(type='Normal', layer='Conv2d', std=0.01,
                override=[dict(name=name, **prior) for name in names])


def dense_cls_scores(outs: Sequence) -> List[Tensor]:
    """The per-level classification logits of a dense head's forward
    output: MMDetection's dense heads return them first, as their
    ``loss_by_feat`` and ``predict_by_feat`` take them."""
    return outs[0]


def per_prior_logits(cls_scores: List[Tensor], num_channels: int) -> Tensor:
    """Per-level maps (N, A*C, H, W) -> (N * sum(H*W*A), C) with
    C = ``num_channels``, priors in the order of MMDetection's targets
    (image, level, y, x, prior)."""
    num_imgs = cls_scores[0].shape[0]
    return torch.cat([
        s.permute(0, 2, 3, 1).reshape(num_imgs, -1, num_channels)
        for s in cls_scores
    ], 1).reshape(-1, num_channels)


def distill_interface(head: nn.Module,
                      what: Optional[str] = None) -> DistillDenseHead:
    """``head`` if it implements ``DistillDenseHead``; otherwise a
    ``TypeError`` naming the head and the fix."""
    if isinstance(head, DistillDenseHead):
        return head
    raise TypeError(
        f'{what or "the dense head"} {type(head).__name__} does not '
        'implement DistillDenseHead (dhkd_det.heads), which a one-stage '
        "student needs to be distilled: use its dual head "
        "(bbox_head.type='DualRetinaHead', 'DualATSSHead' or "
        "'DualFCOSHead'; with aux_classifier=False for a main-head "
        "baseline), or subclass the head and DistillDenseHead "
        '(docs/detection.md, "A new dense head")')
