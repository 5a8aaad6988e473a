"""The data set configs of a config's data loaders, wrapped ones included,
for checks that must run before anything is built."""
import inspect
from typing import Iterator, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.registry import DATASETS


def dataset_cfgs(cfg: Config,
                 loaders: Sequence[str]) -> Iterator[Tuple[str, dict]]:
    """(config key, data set config) of each loader's data set and of the
    ones it wraps (RepeatDataset's ``dataset``, ConcatDataset's
    ``datasets``), e.g. ``('train_dataloader.dataset', {...})``."""
    for loader in loaders:
        yield from _walk((cfg.get(loader) or {}).get('dataset'),
                         f'{loader}.dataset')


def _walk(node, key: str) -> Iterator[Tuple[str, dict]]:
    if not isinstance(node, dict):
        return
    yield key, node
    yield from _walk(node.get('dataset'), f'{key}.dataset')
    for i, inner in enumerate(node.get('datasets') or []):
        yield from _walk(inner, f'{key}.datasets.{i}')


def dataset_class(cfg: Config, type_) -> Optional[type]:
    """The class a data set config's ``type`` names, looked up as the
    Runner will build it (in the config's default scope), or None when it
    is not registered (the build will say so)."""
    if isinstance(type_, type):
        return type_
    if not isinstance(type_, str):
        return None
    with DATASETS.switch_scope_and_registry(
            cfg.get('default_scope')) as registry:
        return registry.get(type_)


def build_argument(cfg: Config, ds: dict, name: str, default=None):
    """The value the data set built from ``ds`` gets for the argument
    ``name``: the config's, else the class's default, else ``default``."""
    if name in ds:
        return ds[name]
    cls = dataset_class(cfg, ds.get('type'))
    try:
        parameter = inspect.signature(cls).parameters[name]
    except (TypeError, ValueError, KeyError):  # no class, or no such arg
        return default
    return default if parameter.default is inspect.Parameter.empty \
        else parameter.default
