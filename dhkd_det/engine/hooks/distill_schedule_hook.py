"""DistillScheduleHook: the weight of the distillation losses over time."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..distiller_of import distiller_of


@HOOKS.register_module()
class DistillScheduleHook(Hook):
    """Sets the scale that multiplies every distillation loss, per
    iteration, and logs it as ``distill_scale``.

    At epoch ``e`` / iteration ``i`` (0-based, as ``runner.epoch`` /
    ``runner.iter``) the scale is ``min((e+1)/warmup_epochs, 1)`` (DKD's
    warm-up: 1/20 in the first epoch), likewise per iteration with
    ``warmup_iters``, and 0 once ``e >= stop_epoch`` or ``i >= stop_iter``
    (the ImageNet recipe stops the aux loss after 50 epochs).  At scale 0
    the teacher is not run.  Without this hook the scale stays 1.
    """
    priority = 'NORMAL'

    def __init__(self,
                 warmup_epochs: int = 0,
                 warmup_iters: int = 0,
                 stop_epoch: Optional[int] = None,
                 stop_iter: Optional[int] = None):
        self.warmup_epochs = warmup_epochs
        self.warmup_iters = warmup_iters
        self.stop_epoch = stop_epoch
        self.stop_iter = stop_iter

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
        model = distiller_of(runner, 'DistillScheduleHook')
        model.distill_scale = self.scale(runner.epoch, runner.iter)
        runner.message_hub.update_scalar('train/distill_scale',
                                         model.distill_scale)
