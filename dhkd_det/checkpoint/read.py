"""Reading a checkpoint file, and comparing its weights with a model's, with
errors that name the file, what is wrong and the fix (torch alone says
"failed reading zip archive" for a truncated file and fails with an
IndexError or KeyError on a text file)."""
import os.path as osp
import pickle
import zipfile
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
from mmengine.runner.checkpoint import _load_checkpoint

_ZIP_MAGIC = b'PK\x03\x04'  # torch.save's format since torch 1.6
_PICKLE_MAGIC = b'\x80'  # the legacy format: a bare pickle, protocol >= 2


def read_checkpoint(path: str, what: str = 'checkpoint',
                    mmap: bool = False) -> dict:
    """Load ``path`` onto the CPU (URLs through MMEngine's loader) under
    torch's ``weights_only`` default.

    Args:
        what: how the error messages name the file ('--resume checkpoint').
        mmap: map the tensors instead of reading them, for a look at the
            keys and shapes that costs no memory (zip-format files only).
    """
    if '://' in path:
        return _load_checkpoint(path, map_location='cpu', logger='current')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} {path!r} not found')
    with open(path, 'rb') as f:
        head = f.read(64)
    is_zip = head.startswith(_ZIP_MAGIC)
    if not head:
        raise ValueError(f'{what} {path} is empty (0 bytes): it was never '
                         'written completely. Use an earlier checkpoint.')
    if is_zip and not zipfile.is_zipfile(path):
        raise ValueError(
            f'{what} {path} is truncated (its zip directory is missing): the '
            'save or the copy was interrupted. Use an earlier checkpoint '
            '(e.g. --resume work_dirs/<run>/epoch_<N>.pth) or copy it again.')
    if not is_zip and not head.startswith(_PICKLE_MAGIC):
        raise ValueError(
            f'{what} {path} is not a PyTorch checkpoint: it starts with '
            f'{head[:40]!r}. Give the .pth file torch.save / the trainer '
            'wrote (not a log, a config or a download error page).')
    try:
        checkpoint = torch.load(path, map_location='cpu',
                                mmap=mmap and is_zip)
    except pickle.UnpicklingError as err:
        raise ValueError(
            f'{what} {path} holds objects that torch.load refuses to '
            f'unpickle under weights_only=True ({err}). If you trust the '
            'file, save its weights again as a dict of tensors '
            '({"state_dict": ...}) and use that.') from err
    except Exception as err:  # a damaged archive fails in many ways
        raise ValueError(
            f'could not read {what} {path} ({type(err).__name__}: {err}); '
            'the file is damaged. Use an earlier checkpoint or copy it '
            'again.') from err
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{what} {path} holds a {type(checkpoint).__name__}'
                         ', not the dict of a checkpoint')
    return checkpoint


Mismatch = Tuple[List[str], List[str], List[Tuple[str, tuple, tuple]]]


def compare_state(state: Dict[str, torch.Tensor],
                  model: nn.Module) -> Mismatch:
    """(model keys missing from ``state``, keys of ``state`` the model does
    not have, (key, checkpoint shape, model shape) of differing shapes)."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [(k, tuple(v.shape), tuple(own[k].shape))
              for k, v in state.items() if k in own and hasattr(v, 'shape')
              and tuple(v.shape) != tuple(own[k].shape)]
    return missing, unexpected, shapes


def describe_mismatch(mismatch: Mismatch, num_model_keys: int) -> str:
    missing, unexpected, shapes = mismatch
    parts = []
    if missing:
        parts.append(f'{len(missing)} of the model\'s {num_model_keys} '
                     f'weights are not in it (e.g. {missing[:3]})')
    if unexpected:
        parts.append(f'{len(unexpected)} of its keys are not in the model '
                     f'(e.g. {unexpected[:3]})')
    if shapes:
        parts.append(f'{len(shapes)} shapes differ (e.g. ' + ', '.join(
            f'{k}: checkpoint {a} vs model {b}' for k, a, b in shapes[:3]) +
            ')')
    return '; '.join(parts)
