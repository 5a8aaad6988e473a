"""bfloat16 mixed precision for the optimizer wrappers.

bfloat16 has float32's exponent range, so unlike float16 it needs no loss
scaling: the forward runs under ``torch.autocast(dtype=torch.bfloat16)``, the
parameters, their gradients and the optimizer state stay float32.  Without a
scaler there is no per-step check for infinite gradients either, which in
MMEngine's ``AmpOptimWrapper`` reads a flag back to the host every step.
"""
from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


def bf16_autocast(model: nn.Module):
    """Autocast to bfloat16 on the device type of ``model``'s parameters."""
    device_type = next(model.parameters()).device.type
    return torch.autocast(device_type=device_type, dtype=torch.bfloat16)


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under bfloat16 autocast:
    ``optim_wrapper=dict(type='BF16OptimWrapper', optimizer=...)``.
    (``GradAlignOptimWrapper`` takes ``dtype='bfloat16'`` for the same.)"""

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), bf16_autocast(model):
            yield
