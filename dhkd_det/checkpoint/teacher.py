"""Loading the frozen teacher's checkpoint strictly, with errors that say
what to fix (the teacher is built by ``distillers.teacher.build_teacher``)."""
import os.path as osp

import torch.nn as nn

from .keys import extract_state_dict, match_keys, mismatch_error
from .read import read_checkpoint


def load_teacher_checkpoint(teacher: nn.Module, ckpt: str,
                            key: str = 'model.teacher_ckpt') -> None:
    """Load ``ckpt`` (a path or URL) into ``teacher`` strictly, or raise an
    error naming the file, the mismatch and the fix.  ``key``: the config
    key that named the file.

    Any layout of ``keys.KEY_PREFIXES`` is read; keys outside the prefix
    that fits (a distiller checkpoint's aux head) are left unread."""
    if not ckpt:
        raise ValueError(
            f'{key} is not set: distillation needs a trained teacher. Train '
            'one (configs/teachers/) or download it, then pass '
            f'`--cfg-options {key}=PATH`.')
    if '://' not in ckpt and not osp.isfile(ckpt):
        raise FileNotFoundError(
            f'teacher checkpoint {ckpt!r} ({key}) does not exist. Train a '
            'teacher with the matching config in configs/teachers/ or '
            f'download it, then pass `--cfg-options {key}=PATH`.')
    checkpoint = read_checkpoint(ckpt, f'teacher checkpoint ({key})')
    match = match_keys(extract_state_dict(checkpoint), teacher)
    if not match.fits(ignored_ok=True):
        if match.shapes and not (match.missing or match.unexpected):
            fix = ('A different first dimension of the classifier means a '
                   'different class count: set num_classes in model.teacher '
                   'to the one the checkpoint was trained with (and train '
                   'the student on the same classes).')
        else:
            fix = (f'Point {key} at a checkpoint of this architecture or '
                   'change model.teacher to the one it was trained with.')
        raise mismatch_error(
            f'teacher checkpoint ({key})', ckpt,
            f'model.teacher ({type(teacher).__name__})', match, fix,
            ignored_ok=True)
    teacher.load_state_dict(match.state, strict=True)
