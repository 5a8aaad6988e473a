"""DHKDHook: the teacher of a distillation run, loaded and checked before
training, and the teacher / student agreement logged while it trains."""
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..distiller_of import distiller_of

#: what the hook did before each job got a hook of its own
_MOVED = dict(
    warmup_epochs='DistillScheduleHook', warmup_iters='DistillScheduleHook',
    stop_epoch='DistillScheduleHook', stop_iter='DistillScheduleHook',
    check_annotations='CocoAuditHook (add it to custom_hooks, or leave it '
    'out to skip the checks)')


@HOOKS.register_module()
class DHKDHook(Hook):
    """Loads ``model.teacher_ckpt`` before the first iteration (a missing,
    corrupt or mismatched checkpoint, or one whose meta names the training
    data's classes in another order, stops the run there, naming the file
    and the fix) and makes the distiller log ``teacher_agree``, the
    fraction of samples (RoIs, anchors) where teacher and student agree on
    the top-1 class.

    The other chores of a run have hooks of their own:
    ``DistillScheduleHook`` (warm-up / stop of the distillation weight),
    ``LossGuardHook`` (non-finite or exploding losses) and ``CocoAuditHook``
    (COCO annotation files).
    """
    priority = 'NORMAL'

    def __init__(self, log_agreement: bool = True, **moved):
        for key in moved:
            if key not in _MOVED:
                raise TypeError(f'DHKDHook got an unexpected argument '
                                f'{key!r}; it takes log_agreement')
        if moved:
            raise TypeError(
                'DHKDHook no longer takes ' + ', '.join(
                    f'{k} (now {_MOVED[k]})' for k in moved) +
                ": e.g. custom_hooks = [dict(type='DHKDHook'), "
                "dict(type='DistillScheduleHook', warmup_epochs=20)]")
        self.log_agreement = log_agreement

    def before_train(self, runner) -> None:
        model = distiller_of(runner, 'DHKDHook')
        dataset = runner.train_dataloader.dataset
        model.load_teacher(classes=(getattr(dataset, 'metainfo', None)
                                    or {}).get('classes'))
        model.log_agreement = self.log_agreement
