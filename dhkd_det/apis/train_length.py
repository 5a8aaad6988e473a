"""A run's length checked before the runner is built: MMEngine fails on
``train_cfg.max_epochs=0`` deep in the scheduler ("end should be larger
than begin, but got begin=0, end=0"), naming neither key."""
from mmengine.config import Config


def check_train_length(cfg: Config) -> None:
    """Raise naming the key and the fix when the run would train nothing or
    a parameter scheduler would end before it begins."""
    train_cfg = cfg.get('train_cfg') or {}
    for key in ('max_epochs', 'max_iters'):
        if key in train_cfg and not int(train_cfg[key]) >= 1:
            raise ValueError(
                f'train_cfg.{key}={train_cfg[key]}: a training run needs '
                f'at least 1 (--cfg-options train_cfg.{key}=N). To evaluate '
                'a checkpoint without training, use tools/test.py.')
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for index, scheduler in enumerate(schedulers):
        by_epoch = scheduler.get('by_epoch', True)
        loop_key = 'max_epochs' if by_epoch else 'max_iters'
        begin = scheduler.get('begin', 0)
        end = scheduler.get('end', train_cfg.get(loop_key))
        if end is not None and end <= begin:
            end_from = 'end' if 'end' in scheduler else \
                f'end (train_cfg.{loop_key})'
            raise ValueError(
                f'param_scheduler[{index}] ({scheduler.get("type")}) ends '
                f'before it begins: begin={begin}, {end_from}={end}. Set '
                f'param_scheduler[{index}].begin below its end, or train '
                f'longer with train_cfg.{loop_key}.')
