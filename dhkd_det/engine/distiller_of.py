"""The model behind a runner's (possibly DDP-wrapped) model, and the
dhkd_det distiller it must be for the distillation hooks."""
import torch.nn as nn
from mmengine.model import is_model_wrapper


def unwrapped_model(runner) -> nn.Module:
    """``runner.model`` without its DDP (or other model) wrapper."""
    model = runner.model
    return model.module if is_model_wrapper(model) else model


def distiller_of(runner, hook: str):
    model = unwrapped_model(runner)
    if not hasattr(model, 'distill_scale'):
        raise TypeError(
            f'{hook} needs a dhkd_det distiller as the model, got '
            f'{type(model).__name__}; remove the hook from custom_hooks or '
            'use a distiller config')
    return model
