"""Building and loading the frozen teacher, with errors that say what to fix."""
import os.path as osp
from typing import Dict, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import MODELS
from mmengine.runner.checkpoint import _load_checkpoint

# Prefixes under which the teacher's own keys may sit in a checkpoint:
# DDP ('module.'), our distillers and classifiers ('student.', 'network.'),
# MMEngine state dicts ('state_dict' handled separately).
_KEY_PREFIXES = ('', 'module.', 'student.', 'network.', 'student.network.',
                 'module.network.')


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


def extract_state_dict(checkpoint) -> Dict[str, torch.Tensor]:
    """The weights of a checkpoint in any of the usual layouts: MMEngine
    (``state_dict``), CRD / mdistiller / DHKD reference (``model``), or a
    bare state dict."""
    if not isinstance(checkpoint, dict):
        raise TypeError(f'a checkpoint must be a dict, got {type(checkpoint)}')
    for key in ('state_dict', 'model'):
        if key in checkpoint and isinstance(checkpoint[key], dict):
            return checkpoint[key]
    return checkpoint


def match_keys(state_dict: Dict[str, torch.Tensor],
               model: nn.Module) -> Dict[str, torch.Tensor]:
    """Strip whichever known prefix makes the checkpoint cover the most of
    ``model``'s keys (a teacher trained with our own configs is stored as
    ``student.network.*``; a DDP-saved one as ``module.*``)."""
    own = set(model.state_dict())
    best, best_hits = state_dict, -1
    for prefix in _KEY_PREFIXES:
        cand = {k[len(prefix):]: v for k, v in state_dict.items()
                if k.startswith(prefix)}
        hits = len(own & set(cand))
        if hits > best_hits:
            best, best_hits = cand, hits
    return best


def load_teacher_checkpoint(teacher: nn.Module, ckpt: str,
                            key: str = 'model.teacher_ckpt') -> None:
    """Load ``ckpt`` into ``teacher`` strictly, or raise an error naming the
    file, the mismatch and the fix."""
    if not ckpt:
        raise ValueError(
            f'{key} is not set: distillation needs a trained teacher. Train '
            'one (configs/teachers/) or download it, then pass '
            f'`--cfg-options {key}=PATH`.')
    is_url = '://' in ckpt
    if not is_url and not osp.isfile(ckpt):
        raise FileNotFoundError(
            f'teacher checkpoint {ckpt!r} ({key}) does not exist. Train a '
            'teacher with the matching config in configs/teachers/ or '
            f'download it, then pass `--cfg-options {key}=PATH`.')
    try:
        # MMEngine prints where it loads from unless given a logger
        checkpoint = _load_checkpoint(ckpt, map_location='cpu',
                                      logger='current')
    except Exception as err:
        raise RuntimeError(
            f'could not read teacher checkpoint {ckpt!r} ({key}): {err}. '
            'Is the file complete (re-download or re-save it)?') from err
    state = match_keys(extract_state_dict(checkpoint), teacher)
    own = teacher.state_dict()
    shape_errors = [(k, tuple(v.shape), tuple(own[k].shape))
                    for k, v in state.items()
                    if k in own and tuple(v.shape) != tuple(own[k].shape)]
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    name = type(teacher).__name__
    if shape_errors and not missing and not unexpected:
        details = '; '.join(f'{k}: checkpoint {a} vs model {b}'
                            for k, a, b in shape_errors[:4])
        raise ValueError(
            f'teacher checkpoint {ckpt!r} does not fit the teacher model '
            f'({name}): {details}. A different first dimension of the '
            'classifier means a different class count: set num_classes '
            'in model.teacher to the one the checkpoint was trained with '
            '(and train the student on the same classes).')
    if missing or unexpected or shape_errors:
        raise ValueError(
            f'teacher checkpoint {ckpt!r} does not match the architecture in '
            f'model.teacher ({name}): {len(missing)} missing keys '
            f'{missing[:5]}, {len(unexpected)} unexpected keys '
            f'{unexpected[:5]}, {len(shape_errors)} shape mismatches '
            f'{shape_errors[:3]}. Point {key} at a checkpoint of this '
            'architecture or change model.teacher to the one it was '
            'trained with.')
    teacher.load_state_dict(state, strict=True)
