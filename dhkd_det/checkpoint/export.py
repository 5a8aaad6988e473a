"""Exporting the student of a distillation checkpoint as a plain checkpoint
(``tools/export_student.py``).

Keeps the student's weights, drops the auxiliary classifiers and the
classification wrapper prefix, so that:
- a classification student loads into the plain zoo network
  (``MODELS.build(dict(type='resnet8x4'))``) with ``strict=True``;
- a detection student loads into MMDetection's own config of the plain
  detector (Faster R-CNN, Cascade R-CNN with every stage's aux classifier
  dropped, RetinaNet): ``tools/test.py mmdet-config exported.pth``.

Which weights are auxiliary the model says (``aux_module_names()`` of its
dual heads), not their names: the model is built from the config the
checkpoint was saved with (MMEngine keeps it in ``meta.cfg``), or from
``--config`` for a checkpoint without one.  The checkpoint may be in any
layout of ``keys.KEY_PREFIXES``.
"""
import os.path as osp
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope
from mmengine.utils import import_modules_from_strings

from ..models.dual_head import DualHeadClassifier, aux_state_keys
from .atomic_file import atomic_path
from .keys import extract_state_dict, match_keys, mismatch_error
from .read import read_checkpoint


def build_model(cfg: Config) -> nn.Module:
    """The model of ``cfg``, as the runner builds it (custom imports,
    default scope); the teacher's checkpoint is not read."""
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        return MODELS.build(cfg.model)


def plain_student_state(state: Dict[str, torch.Tensor], model: nn.Module,
                        source: str = '(a state dict)'
                        ) -> Dict[str, torch.Tensor]:
    """The student's weights in ``state`` (a checkpoint's weights, in any
    layout, of ``model``: a classifier or distiller with a ``student``) as
    the plain network loads them: without the auxiliary classifiers
    ``model`` declares and without the ``DualHeadClassifier`` wrapper
    (``student.network.`` -> ``''``).  ``source`` names ``state`` in
    errors."""
    match = match_keys(state, model)
    aux = aux_state_keys(model)
    student = {k for k in model.state_dict() if k.startswith('student.')}
    if not student - set(match.missing):
        raise KeyError('no `student.*` weights in the checkpoint: is it a '
                       'dhkd_det distiller checkpoint?')
    if not match.fits(missing_ok=aux):
        raise mismatch_error(
            'distiller checkpoint', source, 'the model of its config', match,
            'Export a checkpoint with the config that trained it '
            '(--config, for a checkpoint without meta.cfg).')
    prefix = 'student.network.' if isinstance(
        model.student, DualHeadClassifier) else 'student.'
    return {key[len(prefix):]: value for key, value in match.state.items()
            if key.startswith(prefix) and key not in aux}


def export_state(ckpt: dict, config: Optional[str] = None,
                 source: str = '(a checkpoint dict)') -> dict:
    """The plain student's state dict of checkpoint ``ckpt``, whose model is
    built from ``config`` (a path) or else from the checkpoint's
    ``meta.cfg``."""
    if config is not None:
        cfg = Config.fromfile(config)
    elif ckpt.get('meta', {}).get('cfg'):
        cfg = Config.fromstring(ckpt['meta']['cfg'], '.py')
    else:
        raise KeyError(
            'the checkpoint holds no config (meta.cfg, which MMEngine saves '
            'with each checkpoint): pass the config it was trained with as '
            '--config, so that its model can say which weights are '
            'auxiliary')
    return plain_student_state(extract_state_dict(ckpt), build_model(cfg),
                               source)


def export_student(src: str, dst: str, config: Optional[str] = None,
                   force: bool = False) -> int:
    """Write the plain student of checkpoint ``src`` to ``dst``, atomically,
    never over ``src`` and over another existing file only with ``force``;
    returns how many tensors it wrote."""
    if osp.exists(dst):
        if osp.exists(src) and osp.samefile(src, dst):
            raise FileExistsError(
                f'{dst} is the input checkpoint: exporting over it '
                'would replace the distiller checkpoint (its aux head, '
                'optimizer state and schedule). Give another output path.')
        if not force:
            raise FileExistsError(
                f'{dst} exists: give another output path, or add '
                '--force to overwrite it')
    ckpt = read_checkpoint(src, 'distiller checkpoint')
    state = export_state(ckpt, config, src)
    meta = dict(ckpt.get('meta', {}), exported_from=osp.abspath(src))
    meta.pop('cfg', None)  # the distiller's config does not build the student
    with atomic_path(dst) as tmp:
        torch.save({'state_dict': state, 'meta': meta}, tmp)
    return len(state)
