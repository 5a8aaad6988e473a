"""DHKDHook: the training-time chores of a distillation run, for the
classification and the detection distillers alike."""
import logging
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from .coco_audit import audit_coco_boxes, describe_skipped, is_coco_dataset


def _coco_ann_files(dataset) -> List[str]:
    """The COCO JSON files behind a (possibly wrapped) training set."""
    inner = getattr(dataset, 'datasets', None) or [
        getattr(dataset, 'dataset', None)]
    files = [f for d in inner if d is not None for f in _coco_ann_files(d)]
    ann_file = getattr(dataset, 'ann_file', None)
    if isinstance(ann_file, str) and is_coco_dataset(type(dataset)):
        files.append(ann_file)
    return files


@HOOKS.register_module()
class DHKDHook(Hook):
    """Checks the teacher (and a COCO training set's boxes) before training,
    schedules the distillation weight and turns on agreement logging.

    The scale multiplying every distillation loss at epoch ``e`` / iteration
    ``i`` (both 0-based, as ``runner.epoch`` / ``runner.iter``) is
    ``min((e+1)/warmup_epochs, 1)`` (DKD's warm-up: 1/20 in the first epoch),
    likewise per iteration with ``warmup_iters``, and 0 once
    ``e >= stop_epoch`` or ``i >= stop_iter`` (the ImageNet recipe stops the
    aux loss after 50 epochs).

    Non-finite or exploding losses are ``LossGuardHook``'s business.
    """
    priority = 'NORMAL'

    def __init__(self,
                 warmup_epochs: int = 0,
                 warmup_iters: int = 0,
                 stop_epoch: Optional[int] = None,
                 stop_iter: Optional[int] = None,
                 log_agreement: bool = True,
                 check_annotations: bool = True):
        self.warmup_epochs = warmup_epochs
        self.warmup_iters = warmup_iters
        self.stop_epoch = stop_epoch
        self.stop_iter = stop_iter
        self.log_agreement = log_agreement
        self.check_annotations = check_annotations

    @staticmethod
    def _distiller(runner):
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        if not hasattr(model, 'distill_scale'):
            raise TypeError(
                f'DHKDHook needs a dhkd_det distiller as the model, got '
                f'{type(model).__name__}; remove the hook from custom_hooks '
                'or use a distiller config')
        return model

    def before_train(self, runner) -> None:
        model = self._distiller(runner)
        model.load_teacher()
        model.log_agreement = self.log_agreement
        if self.check_annotations and is_main_process():
            for ann_file in _coco_ann_files(runner.train_dataloader.dataset):
                skipped = audit_coco_boxes(ann_file)
                if skipped:
                    print_log(describe_skipped(ann_file, skipped), 'current',
                              logging.WARNING)

    def scale(self, epoch: int, it: int) -> float:
        if self.stop_epoch is not None and epoch >= self.stop_epoch:
            return 0.0
        if self.stop_iter is not None and it >= self.stop_iter:
            return 0.0
        s = 1.0
        if self.warmup_epochs:
            s = min(s, (epoch + 1) / self.warmup_epochs)
        if self.warmup_iters:
            s = min(s, (it + 1) / self.warmup_iters)
        return s

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        model = self._distiller(runner)
        model.distill_scale = self.scale(runner.epoch, runner.iter)
        runner.message_hub.update_scalar('train/distill_scale',
                                         model.distill_scale)
