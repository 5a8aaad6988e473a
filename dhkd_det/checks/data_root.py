"""A data set's ``data_root`` that does not exist, named before anything is
built: the configs' default roots (``data/cifar100``, ``data/coco/``) are
relative to the folder the tool is run from, which the data sets' own
"file not found" errors do not say."""
import os
import os.path as osp
from typing import Sequence

from mmengine.config import Config

from .dataset_cfgs import dataset_cfgs


def check_data_roots(cfg: Config, loaders: Sequence[str]) -> None:
    for key, ds in dataset_cfgs(cfg, loaders):
        root = ds.get('data_root')
        # download=True creates the folder; URLs belong to file backends
        if not isinstance(root, str) or not root or '://' in root or \
                ds.get('download') or osp.isdir(root):
            continue
        where = '' if osp.isabs(root) else (
            f' (a relative path: relative to the current folder '
            f'{os.getcwd()}, so run the tool from the folder that holds it, '
            'e.g. the repository root, or give an absolute path)')
        raise FileNotFoundError(
            f'{key}.data_root={root!r} does not exist{where}. Point it at '
            f'the data: --cfg-options {key}.data_root=/path/to/data')
