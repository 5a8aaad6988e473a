"""MMDetection heads with DHKD's auxiliary classifier, registered in mmdet's
``MODELS``.  Each subclasses the plain head and adds only the aux
classifier: forwards, losses and prediction are MMDetection's own, and the
aux classifier is evaluated only by the distiller, on the classification
feature it collects while the detector computes its losses.  The dense
(one-stage) heads implement ``DistillDenseHead``, the one interface the
distiller asks of them."""
from .capture import inputs_of, outputs_of
from .dual_bbox_head import (DualConvFCBBoxHead, DualShared2FCBBoxHead,
                             DualShared4Conv1FCBBoxHead)
from .dense import (DistillDenseHead, dense_cls_scores, distill_interface,
                    per_prior_logits)
from .dual_atss_head import DualATSSHead
from .dual_fcos_head import DualFCOSHead
from .dual_retina_head import DualRetinaHead
from .dual_roi_head import (DualCascadeRoIHead, DualStandardRoIHead,
                            SampledRoIs, stage_cls_scores)

__all__ = [
    'DualConvFCBBoxHead', 'DualShared2FCBBoxHead',
    'DualShared4Conv1FCBBoxHead', 'DualStandardRoIHead', 'DualCascadeRoIHead',
    'DualRetinaHead', 'DualATSSHead', 'DualFCOSHead', 'DistillDenseHead',
    'SampledRoIs', 'dense_cls_scores', 'distill_interface', 'inputs_of',
    'outputs_of', 'per_prior_logits', 'stage_cls_scores'
]
