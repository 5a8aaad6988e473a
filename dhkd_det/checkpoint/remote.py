"""Checkpoints named by a URL or an MMEngine model-zoo name
(``torchvision://resnet50``, ``open-mmlab://...``), fetched with a timeout
into a cache keyed by the whole URL (``utils.download``).

MMEngine reads these through ``CheckpointLoader``'s schemes, whose
``load_from_http`` waits on a stalled server for ever and caches by file
name.  The loaders below take those schemes over through MMEngine's public
``CheckpointLoader.register_scheme`` (nothing of MMEngine is patched), so a
backbone's ``init_cfg=dict(type='Pretrained', checkpoint=...)``, a
teacher's ``model.teacher_ckpt`` and ``load_from`` all download the same
way.  The file is then read with ``torch.load``'s own default, as MMEngine
reads it (``weights_only=True`` on torch >= 2.6, which ``safe_load`` keeps
working for MMEngine's checkpoints)."""
import os.path as osp
from typing import Optional

import torch
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import (get_deprecated_model_names,
                                        get_external_models,
                                        get_torchvision_models)

from ..utils.download import DownloadError, cache_path, fetch

_HTTP = ('http://', 'https://')
_TORCHVISION = ('torchvision://', 'modelzoo://')
_OPENMMLAB = ('open-mmlab://', 'openmmlab://')


def resolve_url(name: str) -> Optional[str]:
    """The http(s) URL a checkpoint name stands for: itself for a URL, the
    model zoo's address for ``torchvision://``, ``modelzoo://``,
    ``open-mmlab://`` and ``openmmlab://`` names; None for anything else
    (a local path, or a storage scheme such as ``s3://``, whose own backend
    reads it).  An unknown zoo name raises a KeyError naming it."""
    if name.startswith(_HTTP):
        return name
    for prefix in _TORCHVISION:
        if name.startswith(prefix):
            model = name[len(prefix):]
            urls = get_torchvision_models()
            if model not in urls:
                raise KeyError(
                    f'{name}: torchvision has no model {model!r} (e.g. '
                    f'{", ".join(sorted(urls)[:5])})')
            return urls[model]
    for prefix in _OPENMMLAB:
        if name.startswith(prefix):
            model = name[len(prefix):]
            model = get_deprecated_model_names().get(model, model)
            urls = get_external_models()
            if model not in urls:
                raise KeyError(f'{name}: no such OpenMMLab model {model!r}')
            url = urls[model]
            # a few zoo entries are files under MMEngine's home, not URLs
            return url if url.startswith(_HTTP) else None
    return None


def local_alternative(name: str, url: str, key: str = '') -> str:
    """What to do without network access: the local file to point the key
    at, or where to place the file so the cache finds it."""
    where = f'set {key} to' if key else 'point the config key that names ' \
        'it at'
    return (f'Without network access, download {url} on another machine, '
            f'then {where} the local file, or place it at {cache_path(url)} '
            '(the cache of this URL).')


def fetch_checkpoint(name: str, key: str = '') -> str:
    """The local file of a checkpoint URL or zoo name (downloaded into the
    cache if needed); errors name ``name``, the URL and ``key``."""
    url = resolve_url(name)
    if url is None:
        return name
    shown = name if name == url else f'{name} ({url})'
    try:
        return fetch(url, alternative=local_alternative(name, url, key))
    except DownloadError as err:
        where = f'{key}={shown}' if key else shown
        raise DownloadError(f'{where}: {err}') from err


def _load(name: str, map_location=None):
    """A ``CheckpointLoader`` scheme.  Under DDP every rank fetches on its
    own (each through its own temporary file, renamed into the shared
    cache), without MMEngine's barrier: a rank whose download fails then
    raises instead of leaving the others waiting at the barrier."""
    path = fetch_checkpoint(name)
    if not osp.isfile(path):  # an open-mmlab:// name of a local zoo file
        raise FileNotFoundError(f'{name}: {path} can not be found.')
    return torch.load(path, map_location=map_location)


def load_from_url(filename: str, map_location=None):
    return _load(filename, map_location)


def load_from_zoo(filename: str, map_location=None):
    url = resolve_url(filename)
    if url is None:  # an OpenMMLab zoo entry kept under MMEngine's home
        from mmengine.runner.checkpoint import load_from_openmmlab
        return load_from_openmmlab(filename, map_location)
    return _load(filename, map_location)


def register_loaders() -> None:
    """Make MMEngine read URLs and zoo names through ``load_from_url`` /
    ``load_from_zoo``.  Idempotent."""
    CheckpointLoader.register_scheme(_HTTP, load_from_url, force=True)
    CheckpointLoader.register_scheme(_TORCHVISION + _OPENMMLAB,
                                     load_from_zoo, force=True)


register_loaders()
