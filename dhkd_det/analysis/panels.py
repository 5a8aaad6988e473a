"""What the experiments' tables and one-figure overviews show, defined once
for the classification ablation and the detection demo alike."""
from typing import Tuple

#: the GradDiagnosticsHook groups shown in tables, shared classifier first.
#: The aux head's cosine is 0 by construction (only the distillation loss
#: reaches it), so it is left out.
GRAD_GROUPS = ('main_head', 'backbone_last_stage', 'backbone')


def overview_panels(accuracy: str,
                    *extra: Tuple[str, str]) -> Tuple[Tuple[str, str], ...]:
    """The overview's panels as (record kind, scalar): the validation
    ``accuracy`` key ('top1', 'coco/bbox_mAP'), the main head's and the
    backbone's gradient cosines, then ``extra`` (e.g. ``('val', 'nc1')``)."""
    return (('val', accuracy), ('train', 'grad/cos_main_head'),
            ('train', 'grad/cos_backbone')) + extra
