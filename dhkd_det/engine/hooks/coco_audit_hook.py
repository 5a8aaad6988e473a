"""CocoAuditHook: the COCO annotation files of a detection run, checked."""
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ...checks.coco import check_max_dropped, is_coco_dataset, warn_dropped


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

    With this hook in ``custom_hooks``, ``tools/train.py`` (training and
    validation sets) and ``test.py`` (test set) read every COCO annotation
    file of the config before the data sets are built
    (``checks.coco.audit_coco_datasets``: not JSON, keys missing, boxes
    that are not four finite numbers, class names in another order than
    the categories, images missing or unreadable) and warn about every
    annotation MMDetection's ``CocoDataset`` drops without a message (of
    no listed image, wholly outside its image, below 1 pixel; ids, images,
    and a hint when negative sizes suggest ``[x1, y1, x2, y2]`` was
    written for COCO's ``[x, y, w, h]``).  For runs not started by those
    tools, this hook gives the same warning for the training set before
    training (once per file: not again after the tools' audit).

    ``max_dropped``: the share of a file's annotations (0 to 1) that may be
    dropped that way; above it the run stops before anything is built,
    naming them (None, the default: warn only).
    """
    priority = 'NORMAL'

    def __init__(self, max_dropped: Optional[float] = None) -> None:
        check_max_dropped(max_dropped)
        self.max_dropped = max_dropped

    def before_train(self, runner) -> None:
        if not is_main_process():
            return
        dataset = runner.train_dataloader.dataset
        classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
        for ann_file in coco_ann_files(dataset):
            warn_dropped(ann_file, classes=classes,
                         max_dropped=self.max_dropped)
