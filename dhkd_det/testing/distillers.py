"""The small classification distiller of the tests and benchmarks: DHKD
resnet8 -> resnet8 on 10 classes, the student's aux head distilled."""
from typing import Optional


def small_cls_distiller_cfg(teacher_ckpt: Optional[str] = None,
                            distill_losses: Optional[dict] = None,
                            **kwargs) -> dict:
    """A ``ClsDistiller`` config: a resnet8 ``DualHeadClassifier`` student
    with a nonlinear aux head, a resnet8 teacher (``teacher_ckpt``, e.g.
    from ``save_teacher``), BinaryKL-Norm on the aux head unless
    ``distill_losses`` says otherwise; ``kwargs`` are further ClsDistiller
    arguments."""
    return dict(
        type='ClsDistiller',
        student=dict(type='DualHeadClassifier',
                     network=dict(type='resnet8', num_classes=10),
                     aux_head='nonlinear'),
        teacher=dict(type='resnet8', num_classes=10),
        teacher_ckpt=teacher_ckpt,
        distill_losses=distill_losses or dict(
            aux=dict(type='BinaryKLNormLoss')),
        **kwargs)
