"""A data set's ``data_root`` that does not exist or is a file, named before
anything is built: the configs' default roots (``data/cifar100``,
``data/coco/``) are relative to the folder the tool is run from, which the
data sets' own "file not found" errors do not say."""
import os
import os.path as osp
from typing import Sequence

from mmengine.config import Config

from .dataset_cfgs import build_argument, dataset_cfgs


def check_data_roots(cfg: Config, loaders: Sequence[str]) -> None:
    for key, ds in dataset_cfgs(cfg, loaders):
        root = ds.get('data_root')
        # URLs belong to MMEngine's file backends
        if not isinstance(root, str) or not root or '://' in root or \
                osp.isdir(root):
            continue
        fix = (f'Point it at the data: --cfg-options {key}.data_root='
               '/path/to/data')
        if osp.exists(root):
            raise NotADirectoryError(
                f'{key}.data_root={root!r} is a file, not the folder that '
                f'holds the data. {fix}')
        # a data set that downloads what is missing (CIFAR100 by default)
        # creates the folder
        if build_argument(cfg, ds, 'download', False):
            continue
        where = '' if osp.isabs(root) else (
            f' (a relative path: relative to the current folder '
            f'{os.getcwd()}, so run the tool from the folder that holds it, '
            'e.g. the repository root, or give an absolute path)')
        raise FileNotFoundError(
            f'{key}.data_root={root!r} does not exist{where}. {fix}')
