"""Reading a checkpoint file, with errors that name the file, what is wrong
and the fix (torch alone says "failed reading zip archive" for a truncated
file and fails with an IndexError or KeyError on a text file)."""
import os.path as osp
import pickle
import re
import zipfile

import torch
from mmengine.runner import CheckpointLoader

from ..utils.download import DownloadError
from .remote import fetch_checkpoint, resolve_url

_ZIP_MAGIC = b'PK\x03\x04'  # torch.save's format since torch 1.6
_PICKLE_MAGIC = b'\x80'  # the legacy format: a bare pickle, protocol >= 2


def unsafe_pickle_error(what: str, path: str,
                        err: pickle.UnpicklingError) -> ValueError:
    """The error for a checkpoint ``torch.load(weights_only=True)`` refuses:
    the file is complete but holds pickled objects other than weights (a
    whole model, a custom class), which could run any code when loaded.
    torch's own message suggests ``weights_only=False``, which we never do
    for a file we did not write."""
    found = re.search(r'Unsupported global: GLOBAL (\S+)', str(err))
    holds = f' (e.g. {found.group(1)})' if found else ''
    return ValueError(
        f'{what} {path} holds objects that are not plain weights{holds}: it '
        'was not loaded, since unpickling them could run arbitrary code. If '
        'the file comes from a trusted source, re-save its weights there as '
        "`torch.save({'state_dict': model.state_dict()}, path)` and use "
        'that file.')


def read_checkpoint(path: str, what: str = 'checkpoint',
                    mmap: bool = False) -> dict:
    """Load ``path`` onto the CPU under torch's ``weights_only`` default,
    which ``safe_load`` keeps working for MMEngine's checkpoints.  A URL or
    zoo name (``torchvision://``) is fetched with a timeout into the cache
    keyed by the whole URL (``remote.fetch_checkpoint``) and read as a local
    file; other schemes (``s3://``) go through MMEngine's public
    ``CheckpointLoader``.

    Args:
        what: how the error messages name the file ('--resume checkpoint').
        mmap: map the tensors instead of reading them, for a look at the
            keys and shapes that costs no memory (zip-format files only).
    """
    if '://' in path and resolve_url(path) is not None:
        try:
            path = fetch_checkpoint(path)
        except DownloadError as err:
            raise DownloadError(f'{what}: {err}') from err
    if '://' in path:
        try:
            return CheckpointLoader.load_checkpoint(
                path, map_location='cpu', logger='current')
        except pickle.UnpicklingError as err:
            raise unsafe_pickle_error(what, path, err) from err
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
        raise unsafe_pickle_error(what, path, err) from err
    except Exception as err:  # a damaged archive fails in many ways
        raise ValueError(
            f'could not read {what} {path} ({type(err).__name__}: {err}); '
            'the file is damaged. Use an earlier checkpoint or copy it '
            'again.') from err
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{what} {path} holds a {type(checkpoint).__name__}'
                         ', not the dict of a checkpoint')
    return checkpoint
