"""Labels a classifier cannot predict, named before training or testing
(otherwise the loss fails with ``IndexError: Target 70 is out of bounds``
and top-k counts them as wrong without a word)."""
from typing import Sequence

import numpy as np
from mmengine.model import is_model_wrapper

from ..datasets.labelled import LabelledDataset


def check_label_range(runner, loaders: Sequence[str]) -> None:
    """Every label of the ``loaders``' classification data sets (e.g.
    ``'train_dataloader'``) must be below the student's class count."""
    model = runner.model.module if is_model_wrapper(runner.model) else \
        runner.model
    num_classes = getattr(getattr(model, 'student', None), 'num_classes',
                          None)
    if num_classes is None:  # not a classifier of ours (detection)
        return
    for loader in loaders:
        dataset = getattr(runner, loader).dataset
        if not isinstance(dataset, LabelledDataset) or not len(dataset):
            continue
        top = int(np.max(dataset._labels))
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
