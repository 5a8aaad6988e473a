"""Building the frozen teacher, with errors that say what to fix (its
checkpoint is loaded by ``checkpoint.teacher.load_teacher_checkpoint``)."""
import os.path as osp
from typing import Union

import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import MODELS


def build_teacher(teacher: Union[dict, str, nn.Module]) -> nn.Module:
    """Build the teacher from a model config, a config file path or an
    ``mmdet::`` config name (whose ``model`` is used)."""
    if isinstance(teacher, nn.Module):
        return teacher
    if isinstance(teacher, str):
        cfg = _load_config(teacher)
        if 'model' not in cfg:
            raise KeyError(f'teacher config {teacher!r} has no `model` key')
        teacher = cfg.model
    return MODELS.build(teacher)


def _load_config(name: str) -> Config:
    if '::' in name:
        from mmengine.hub import get_config
        return get_config(name)
    if not osp.isfile(name):
        raise FileNotFoundError(
            f'teacher config {name!r} not found: give a config file path, an '
            '"mmdet::<config>.py" name, or a model dict in model.teacher')
    return Config.fromfile(name)
