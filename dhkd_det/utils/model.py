"""The model behind a runner's (possibly DDP-wrapped) model."""
import torch.nn as nn
from mmengine.model import is_model_wrapper


def unwrapped_model(runner) -> nn.Module:
    """``runner.model`` without its DDP (or other model) wrapper."""
    model = runner.model
    return model.module if is_model_wrapper(model) else model
