"""Loading the frozen teacher's checkpoint strictly, with errors that say
what to fix (the teacher is built by ``distillers.teacher.build_teacher``)."""
import glob
import logging
import os.path as osp
from typing import Optional, Sequence

import torch.nn as nn
from mmengine.logging import print_log

from .keys import (extract_state_dict, match_keys, mismatch_error,
                   mmcv_ema_keys, select_ema)
from .read import read_checkpoint

#: the config key choosing a checkpoint's EMA weights
EMA_KEY = 'model.teacher_ckpt_ema'


def load_teacher_checkpoint(teacher: nn.Module, ckpt: str,
                            key: str = 'model.teacher_ckpt',
                            ema: Optional[bool] = None,
                            classes: Optional[Sequence[str]] = None) -> None:
    """Load ``ckpt`` (a path or URL) into ``teacher`` strictly, or raise an
    error naming the file, the mismatch and the fix.  ``key``: the config
    key that named the file.

    Any layout of ``keys.KEY_PREFIXES`` is read; keys outside the prefix
    that fits (a distiller checkpoint's aux head) are left unread.

    Args:
        ema: for a checkpoint holding mmcv 1.x EMA weights (``ema_*``
            keys) beside the plain ones: True loads the EMA ones, False
            the plain ones; None (the default) refuses such a checkpoint
            naming both choices.
        classes: the class names of the training data: a checkpoint whose
            ``meta`` names the same classes in another order is refused,
            other names are logged as a warning.
    """
    if not ckpt:
        raise ValueError(
            f'{key} is not set: distillation needs a trained teacher. Train '
            'one (configs/teachers/) or download it, then pass '
            f'`--cfg-options {key}=PATH`.')
    if '://' not in ckpt and osp.isdir(ckpt):
        found = sorted(osp.basename(p) for p in glob.glob(
            osp.join(glob.escape(ckpt), '*.pth')))
        raise IsADirectoryError(
            f'teacher checkpoint ({key}) {ckpt} is a folder, not a '
            'checkpoint file: point it at the .pth file'
            + (f' in it ({", ".join(found[:5])}'
               f'{", ..." if len(found) > 5 else ""})' if found
               else ' (this folder holds none)') + '.')
    if '://' not in ckpt and not osp.isfile(ckpt):
        raise FileNotFoundError(
            f'teacher checkpoint {ckpt!r} ({key}) does not exist. Train a '
            'teacher with the matching config in configs/teachers/ or '
            f'download it, then pass `--cfg-options {key}=PATH`.')
    what = f'teacher checkpoint ({key})'
    try:
        checkpoint = read_checkpoint(ckpt, what)
    except PermissionError as err:
        raise PermissionError(
            f'{what} {ckpt} cannot be read ({err.strerror or err}): this '
            f'user may not read it. Make it readable (`chmod a+r {ckpt}`, '
            'or ask its owner), or copy it somewhere readable and point '
            f'{key} at the copy.') from err
    state = _choose_ema(extract_state_dict(checkpoint), ckpt, what, ema)
    match = match_keys(state, teacher)
    if not match.fits(ignored_ok=True):
        if match.shapes and not (match.missing or match.unexpected):
            fix = ('A different first dimension of the classifier means a '
                   'different class count: set num_classes in model.teacher '
                   'to the one the checkpoint was trained with (and train '
                   'the student on the same classes).')
        else:
            fix = (f'Point {key} at a checkpoint of this architecture or '
                   'change model.teacher to the one it was trained with.')
        raise mismatch_error(what, ckpt,
                             f'model.teacher ({type(teacher).__name__})',
                             match, fix, ignored_ok=True)
    if classes:
        check_teacher_classes(checkpoint, classes, ckpt, what)
    teacher.load_state_dict(match.state, strict=True)


def _choose_ema(state: dict, ckpt: str, what: str,
                ema: Optional[bool]) -> dict:
    """The weights of ``state`` to load: the plain or (``ema``) the mmcv
    1.x EMA ones; a checkpoint with both needs ``ema`` set."""
    twins = mmcv_ema_keys(state)
    if ema and not twins:
        raise ValueError(
            f'{EMA_KEY}=True, but {what} {ckpt} holds no EMA weights (no '
            "mmcv 1.x `ema_<name>` keys). Remove it to load the checkpoint's "
            'weights as they are.')
    if not twins:
        return state
    example = next(iter(twins.values()))
    if ema is None:
        raise ValueError(
            f'{what} {ckpt} holds exponential-moving-average (EMA) weights '
            f'beside the plain ones: {len(twins)} mmcv 1.x EMAHook keys '
            f'(e.g. {example}). Choose which to load: '
            f'`--cfg-options {EMA_KEY}=True` loads the EMA ones, '
            f'`{EMA_KEY}=False` the plain ones. (mmcv 1.x and MMDetection '
            "2.x's EMA hooks swap the EMA weights into the model at each "
            'epoch end before the checkpoint is written: in a checkpoint '
            'saved at an epoch end the plain keys hold the EMA weights and '
            'the ema_ keys the raw ones.)')
    print_log(f'{what} {ckpt}: loading its '
              + ('EMA weights (the mmcv 1.x ema_* keys)' if ema else
                 f'plain weights, not its {len(twins)} EMA ones (ema_*)')
              + f' as {EMA_KEY}={ema} asks', 'current')
    return select_ema(state, ema)


def checkpoint_classes(checkpoint: dict) -> Optional[tuple]:
    """The class names a checkpoint's ``meta`` records: MMEngine's
    ``dataset_meta['classes']`` (MMDetection 3.x, MMPretrain, our runs) or
    MMDetection 2.x's ``CLASSES``; None when it records none."""
    meta = checkpoint.get('meta')
    if not isinstance(meta, dict):
        return None
    classes = (meta.get('dataset_meta') or {}).get('classes') \
        if isinstance(meta.get('dataset_meta'), dict) else None
    classes = classes or meta.get('CLASSES')
    return tuple(classes) if isinstance(classes, (list, tuple)) and \
        classes else None


def _names(classes: Sequence[str]) -> str:
    shown = ', '.join(repr(c) for c in classes[:10])
    return f'({shown}{", ..." if len(classes) > 10 else ""}; ' \
        f'{len(classes)} classes)'


def check_teacher_classes(checkpoint: dict, classes: Sequence[str],
                          ckpt: str, what: str) -> None:
    """The teacher's classes (its ``meta``) against the training data's:
    the same names in another order are refused (every logit would be
    distilled into another class), other names are logged as a warning."""
    theirs = checkpoint_classes(checkpoint)
    ours = tuple(classes)
    if theirs is None or theirs == ours:
        return
    at = next((i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b),
              min(len(theirs), len(ours)))
    first = (f'first difference at class {at}: '
             f'{theirs[at] if at < len(theirs) else None!r} in the '
             f'checkpoint, {ours[at] if at < len(ours) else None!r} in the '
             'data')
    both = (f'its meta lists {_names(theirs)}, the training data '
            f'{_names(ours)} ({first})')
    if sorted(map(str, theirs)) == sorted(map(str, ours)):
        raise ValueError(
            f'{what} {ckpt} was trained on the same classes in another '
            f'order: {both}. The teacher\'s logit i would be distilled into '
            "the student's class i, another class. Give the data set the "
            "teacher's order (metainfo=dict(classes=...); for a COCO file, "
            'its categories in that order), or use a teacher trained with '
            "the data's order.")
    print_log(f'{what} {ckpt} names other classes than the training data: '
              f'{both}. Its logits are distilled class by class as they '
              'are: if it was trained on other data, use a teacher trained '
              'on these classes.', 'current', logging.WARNING)
