"""Labels a model cannot predict, named before training or testing.

Classification: otherwise the loss fails with ``IndexError: Target 70 is
out of bounds`` and top-k counts them as wrong without a word.  Detection:
a data set with more classes than the box head fails inside the loss (or a
CUDA device-side assert), and class names missing from the COCO file's
categories silently shift every label (MMDetection numbers only the
categories it finds)."""
import logging
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log

from ..datasets.labelled import LabelledDataset
from ..utils.model import unwrapped_model


def check_label_range(runner, loaders: Sequence[str]) -> None:
    """Every label of the ``loaders``' classification data sets (e.g.
    ``'train_dataloader'``) must be below the student's class count."""
    model = unwrapped_model(runner)
    num_classes = getattr(getattr(model, 'student', None), 'num_classes',
                          None)
    if num_classes is None:  # not a classifier of ours
        detector_classes = detector_class_count(model)
        if detector_classes is not None:
            for loader in loaders:
                check_detection_classes(runner, loader, detector_classes)
        return
    for loader in loaders:
        dataset = getattr(runner, loader).dataset
        if not isinstance(dataset, LabelledDataset) or not len(dataset):
            continue
        # a list, a NumPy array, or a tensor on the device for a data set
        # held there (CIFAR100(device=...)), read back once
        top = int(torch.as_tensor(dataset._labels).max())
        if top < num_classes:
            continue
        cfg = runner.cfg.get(loader).dataset
        raise ValueError(
            f'{loader}.dataset ({cfg.get("type")} at data_root '
            f'{cfg.get("data_root")!r}) has labels up to {top} '
            f'({dataset.num_classes} classes) but the model predicts '
            f'{num_classes} classes. Set model.student.network.num_classes'
            f'={dataset.num_classes} (and model.teacher.num_classes, with a '
            f'teacher of as many classes), or point {loader}.dataset.'
            f'data_root at data with {num_classes} classes.')


def detector_class_count(model: nn.Module) -> Optional[int]:
    """The class count of an MMDetection detector, or of a distiller's
    student, as ``DetDistiller.class_count`` reads it (the last box head);
    None for anything else."""
    target = getattr(model, 'student', model)
    if not (getattr(target, 'with_roi_head', False) or
            getattr(target, 'bbox_head', None) is not None):
        return None
    # a detector: MMDetection is installed (classification runs without it)
    from ..distillers.det_distiller import DetDistiller
    return DetDistiller.class_count(target)


def check_detection_classes(runner, loader: str, num_classes: int) -> None:
    """The ``loader``'s detection data set against the box head: no more
    classes than it predicts, and every class name among the COCO file's
    categories; fewer classes than the head is allowed but said."""
    dataset = getattr(runner, loader).dataset
    classes = tuple((getattr(dataset, 'metainfo', None) or {}).get(
        'classes') or ())
    if not classes:
        return
    cfg = runner.cfg.get(loader).dataset
    where = (f'{loader}.dataset ({cfg.get("type")}, ann_file '
             f'{cfg.get("ann_file")!r} under {cfg.get("data_root")!r})')
    cat_ids = getattr(dataset, 'cat_ids', None)
    if cat_ids is not None and len(cat_ids) < len(classes):
        raise ValueError(
            f'{where} names {len(classes)} classes but the annotation file '
            f'has categories for only {len(cat_ids)} of them: MMDetection '
            f'would number the found ones 0..{len(cat_ids) - 1} and every '
            'label after a missing name would shift. Make metainfo=dict('
            "classes=...) list exactly the names in the file's "
            "'categories' (or fix the file).")
    head_key = ('model.student' if hasattr(unwrapped_model(runner), 'student')
                else 'model')
    if len(classes) > num_classes:
        raise ValueError(
            f'{where} has {len(classes)} classes but the box head predicts '
            f'{num_classes}. Set num_classes={len(classes)} in the box head '
            f'of {head_key} (roi_head.bbox_head, or bbox_head for one-stage '
            'detectors; every stage of a Cascade R-CNN), and in '
            "model.teacher's for a distiller, or give the data set "
            f'metainfo=dict(classes=...) with {num_classes} names.')
    if len(classes) < num_classes:
        print_log(
            f'{where} has {len(classes)} classes and the box head predicts '
            f'{num_classes}: the other {num_classes - len(classes)} are '
            f'trained as absent. If unintended, set num_classes='
            f'{len(classes)} in the box head of {head_key}.', 'current',
            logging.WARNING)
