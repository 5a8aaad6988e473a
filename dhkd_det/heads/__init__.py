"""MMDetection heads with DHKD's auxiliary classifier, registered in mmdet's
``MODELS``.  Each subclasses the plain head and keeps its contract: the aux
logits are computed only when asked for (``with_aux=True``), so prediction
and every mmdet code path run exactly the plain head."""
from .dual_bbox_head import DualShared2FCBBoxHead
from .dual_retina_head import DualRetinaHead
from .dual_roi_head import DualStandardRoIHead

__all__ = ['DualShared2FCBBoxHead', 'DualStandardRoIHead', 'DualRetinaHead']
