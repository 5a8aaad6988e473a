"""The dhkd_det distiller a distillation hook needs as the runner's model."""
from ..distillers import BaseDistiller
from ..utils.model import unwrapped_model


def distiller_of(runner, hook: str) -> BaseDistiller:
    model = unwrapped_model(runner)
    if not isinstance(model, BaseDistiller):
        raise TypeError(
            f'{hook} needs a dhkd_det distiller as the model, got '
            f'{type(model).__name__}; remove the hook from custom_hooks or '
            'use a distiller config')
    return model
