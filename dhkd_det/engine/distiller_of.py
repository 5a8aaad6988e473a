"""The dhkd_det distiller behind a runner's (possibly wrapped) model."""
from mmengine.model import is_model_wrapper


def distiller_of(runner, hook: str):
    model = runner.model
    model = model.module if is_model_wrapper(model) else model
    if not hasattr(model, 'distill_scale'):
        raise TypeError(
            f'{hook} needs a dhkd_det distiller as the model, got '
            f'{type(model).__name__}; remove the hook from custom_hooks or '
            'use a distiller config')
    return model
