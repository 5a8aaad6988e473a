"""Pre-flight checks: what a config, its data and its model can be checked
for before (or right after) the runner is built, each error naming the file
or key and the fix."""
from typing import Sequence

from mmengine.config import Config

from .cfg_options import CfgOptionsAction, check_cfg_options
from .coco import audit_coco_datasets
from .data_root import check_data_roots
from .labels import check_label_range
from .preflight import (PreflightFailed, Problem, check_preflight, gather,
                        preflight, problem_report)


def check_data(cfg: Config, loaders: Sequence[str]) -> None:
    """The data checks that need nothing built, for the data sets of
    ``loaders`` (e.g. ``('train_dataloader', 'val_dataloader')``): data
    roots that do not exist, then COCO annotation files and images."""
    check_data_roots(cfg, loaders)
    audit_coco_datasets(cfg, loaders)


__all__ = ['PreflightFailed', 'Problem', 'audit_coco_datasets',
           'check_cfg_options', 'check_data', 'check_data_roots',
           'check_label_range', 'check_preflight', 'gather', 'preflight',
           'problem_report']
