"""CocoAuditHook: the COCO annotation files of a detection run, checked."""
import logging
from typing import List

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from ...checks.coco import audit_coco_boxes, describe_skipped, is_coco_dataset


def coco_ann_files(dataset) -> List[str]:
    """The COCO JSON files behind a (possibly wrapped) training set, found
    by the data sets' types (CocoDataset or a subclass)."""
    inner = getattr(dataset, 'datasets', None) or [
        getattr(dataset, 'dataset', None)]
    files = [f for d in inner if d is not None for f in coco_ann_files(d)]
    ann_file = getattr(dataset, 'ann_file', None)
    if isinstance(ann_file, str) and is_coco_dataset(type(dataset)):
        files.append(ann_file)
    return files


@HOOKS.register_module()
class CocoAuditHook(Hook):
    """Opt-in checks of COCO data (our detection configs turn them on).

    With this hook in ``custom_hooks``, ``tools/train.py`` / ``test.py``
    read every COCO annotation file of the config before the data sets are
    built (``coco_audit.audit_coco_datasets``: not JSON, keys missing, boxes
    that are not four finite numbers, images missing or unreadable), and
    before training this hook warns about the boxes MMDetection's
    ``CocoDataset`` skips without a message (ids, images, and a hint when
    negative sizes suggest ``[x1, y1, x2, y2]`` was written for COCO's
    ``[x, y, w, h]``).
    """
    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        if not is_main_process():
            return
        for ann_file in coco_ann_files(runner.train_dataloader.dataset):
            skipped = audit_coco_boxes(ann_file)
            if skipped:
                print_log(describe_skipped(ann_file, skipped), 'current',
                          logging.WARNING)
