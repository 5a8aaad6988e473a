"""The data set configs of a config's data loaders, wrapped ones included,
for checks that must run before anything is built."""
from typing import Iterator, Sequence, Tuple

from mmengine.config import Config


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
