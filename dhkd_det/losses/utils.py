"""What the loss functions share: their inputs' dtype and shapes."""
import torch
from torch import Tensor


def upcast(x: Tensor) -> Tensor:
    """At least float32 (AMP's float16/bfloat16 logits), float64 kept."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def check_shapes(student_logits: Tensor, teacher_logits: Tensor) -> None:
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f'student logits {tuple(student_logits.shape)} and teacher logits '
            f'{tuple(teacher_logits.shape)} differ in shape: teacher and '
            'student must predict the same number of classes (check '
            'num_classes in both model configs).')
