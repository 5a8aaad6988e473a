"""LossGuardHook: stop a run whose loss is not finite or has blown up, before
the broken weights are saved, without a host-device sync per iteration."""
import math
import statistics
from collections import deque
from typing import List, Optional, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class LossGuardHook(Hook):
    """Watches the training losses and raises ``FloatingPointError`` when
    one is NaN / inf, or when the total loss exceeds ``factor`` times its
    recent level, ``max(median of the last `history` totals, min_level)``
    (``min_level`` keeps a well-converged loss near 0 from making any
    ordinary batch an "explosion").

    Each iteration's losses are copied into a buffer on their own device;
    the host reads it every ``interval`` iterations, at the end of every
    epoch and before any checkpoint is written (this hook runs before the
    checkpoint hook), so a bad state is found before it can be saved and
    the checkpoints on disk stay the last good ones.

    Args:
        interval: iterations between host-side looks at the buffer.
        factor: how many times its recent level the loss may reach.
        min_level: the smallest recent level ``factor`` is applied to.
        history: how many past totals the recent level is the median of.
    """
    priority = 'ABOVE_NORMAL'

    def __init__(self, interval: int = 50, factor: float = 100.0,
                 min_level: float = 1.0, history: int = 200):
        if interval < 1 or factor <= 1 or history < 1:
            raise ValueError('LossGuardHook needs interval >= 1, factor > 1 '
                             f'and history >= 1, got interval={interval}, '
                             f'factor={factor}, history={history}')
        self.interval = interval
        self.factor = factor
        self.min_level = min_level
        self.history = history
        self._reset()

    def _reset(self) -> None:
        self._keys: Tuple[str, ...] = ()
        self._buf: Optional[torch.Tensor] = None
        self._where: List[Tuple[int, int]] = []  # (epoch, iter) per row
        self._totals: deque = deque(maxlen=self.history)

    def before_train(self, runner) -> None:
        self._reset()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        # only the logged outputs are read: which of them are losses is
        # MMEngine's own convention (parse_losses sums the keys with 'loss')
        keys = tuple(k for k in (outputs or {}) if 'loss' in k)
        if not keys:
            return
        if keys != self._keys:
            # a loss appeared or vanished: judge the old rows, then restart
            self.check(runner)
            self._keys, self._buf = keys, None
        # a number beside the tensors is filled in on their device (a
        # tensor made on the host could not be stacked with them)
        device = next((outputs[k].device for k in keys
                       if torch.is_tensor(outputs[k])), None)
        row = torch.stack([
            outputs[k].detach().float().reshape(()) if torch.is_tensor(
                outputs[k]) else torch.full((), float(outputs[k]),
                                            device=device)
            for k in keys])
        if self._buf is None:
            self._buf = row.new_empty((self.interval, len(keys)))
        self._buf[len(self._where)] = row  # a device-side copy, no sync
        self._where.append((runner.epoch, runner.iter))
        if len(self._where) == self.interval or self.end_of_epoch(
                runner.train_dataloader, batch_idx) or \
                self.is_last_train_iter(runner):
            self.check(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        self.check(runner)

    def check(self, runner) -> None:
        """Read the buffered losses on the host (one sync) and raise on the
        first non-finite or exploded one."""
        if not self._where:
            return
        rows = self._buf[:len(self._where)].cpu().tolist()
        where, self._where = self._where, []
        for (epoch, it), row in zip(where, rows):
            losses = dict(zip(self._keys, row))
            at = f'epoch {epoch + 1}, iteration {it + 1}'
            bad = {k: v for k, v in losses.items() if not math.isfinite(v)}
            if bad:
                self._stop(runner, f'non-finite loss at {at}: {bad}')
            total = losses.get('loss', sum(losses.values()))
            if self._totals:
                level = max(abs(statistics.median(self._totals)),
                            self.min_level)
                if abs(total) > self.factor * level:
                    self._stop(
                        runner,
                        f'the loss exploded at {at}: {total:.4g}, more than '
                        f'{self.factor:g} times its recent level '
                        f'{level:.4g} (losses {losses})')
            self._totals.append(total)

    def _stop(self, runner, what: str) -> None:
        raise FloatingPointError(
            f'{what}. Training stopped before this state was saved; the '
            f'checkpoints in {runner.work_dir} are the last good ones. Lower '
            'the learning rate, add optim_wrapper.clip_grad, or check the '
            'data and resume with --resume (LossGuardHook in custom_hooks '
            'sets the threshold: factor, min_level).')
