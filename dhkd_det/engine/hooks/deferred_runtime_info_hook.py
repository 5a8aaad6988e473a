"""DeferredRuntimeInfoHook: MMEngine's RuntimeInfoHook without its host
sync per iteration.

MMEngine's ``RuntimeInfoHook.after_train_iter`` pushes every logged output of
the step into the message hub each iteration, and ``MessageHub.update_scalar``
reads a tensor with ``.item()``: one host-device sync per logged value per
iteration, so the host can never run ahead of the device.  This hook keeps
the iterations' values on their device and pushes them, the same values in
the same order, only when something is about to read the message hub.
"""
from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmengine.hooks import LoggerHook, RuntimeInfoHook
from mmengine.registry import HOOKS
from mmengine.utils import apply_to


@HOOKS.register_module()
class DeferredRuntimeInfoHook(RuntimeInfoHook):
    """A drop-in for ``RuntimeInfoHook`` (``default_hooks.runtime_info``)
    that reads the step's logged tensors to the host once per log line
    instead of once per value and iteration.

    Each iteration's one-element tensor outputs are stacked into one row of
    a buffer on their device (no sync).  The rows are read in one host read
    and pushed into the message hub, one ``update_scalar`` per key and
    iteration with the values ``RuntimeInfoHook`` would have pushed, just
    before anything reads the hub: when a ``LoggerHook`` logs this
    iteration (this hook runs before it), at the end of every epoch and of
    training, before a checkpoint is written (the hub is in it), before
    validation, when the set of logged keys changes, and when the buffer
    holds ``max_pending`` iterations.  An iteration that logs a key for the
    first time is pushed at once (one read), so the hub's keys, and so the
    columns of the log, come in MMEngine's order.  Values that are not
    tensors are pushed at once, as before.

    Between those points the hub lacks the newest iterations' outputs: a
    hook of one's own that reads ``train/*`` scalars at other times calls
    ``flush_logged_outputs(runner)`` first.

    Args:
        max_pending: the most iterations held on the device before they are
            read anyway (bounds the buffer when nothing logs for long).
    """

    def __init__(self, max_pending: int = 1000):
        if max_pending < 1:
            raise ValueError('DeferredRuntimeInfoHook needs max_pending >= 1, '
                             f'got {max_pending}')
        self.max_pending = max_pending
        self._loggers: List[LoggerHook] = []
        self._restart(())

    def _restart(self, keys: Tuple[str, ...],
                 kinds: Tuple[Callable, ...] = ()) -> None:
        # the held keys, the Python type `.item()` gives for each, and the
        # buffer of their rows
        self._keys, self._kinds = keys, kinds
        self._buf: Optional[torch.Tensor] = None
        self._rows = 0

    def before_train(self, runner) -> None:
        super().before_train(runner)
        self._loggers = [h for h in runner.hooks if isinstance(h, LoggerHook)]
        self._restart(())

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if outputs is None:
            return
        hub = runner.message_hub
        held = {k: v for k, v in outputs.items() if _held(v)}
        if tuple(held) != self._keys:
            # a loss appeared or vanished: push the old rows, then restart
            self.flush(runner)
            self._restart(tuple(held), tuple(
                _python_kind(v.dtype) for v in held.values()))
        if any(f'train/{k}' not in hub.log_scalars for k in outputs):
            self.flush(runner)
            values = {}
            if held:
                values = dict(zip(self._keys,
                                  self._read(_row(held)[None])[0]))
            for key, value in outputs.items():
                hub.update_scalar(f'train/{key}', values.get(key, value))
            return
        for key, value in outputs.items():
            if key not in held:
                hub.update_scalar(f'train/{key}', value)
        if held:
            self._hold(_row(held))
        if self._rows == self.max_pending or self._logs_now(
                runner, batch_idx) or self.end_of_epoch(
                    runner.train_dataloader, batch_idx) or \
                self.is_last_train_iter(runner):
            self.flush(runner)

    def _hold(self, row: torch.Tensor) -> None:
        if self._buf is None:
            self._buf = row.new_empty((self.max_pending, len(row)))
        self._buf[self._rows] = row  # a device-side copy, no sync
        self._rows += 1

    def _logs_now(self, runner, batch_idx: int) -> bool:
        """Whether a LoggerHook reads the hub after this iteration (its own
        test, in ``LoggerHook.after_train_iter``; the end of an epoch is
        flushed anyway)."""
        return any(logger.every_n_inner_iters(batch_idx, logger.interval)
                   for logger in self._loggers)

    def flush(self, runner) -> bool:
        """Push the held iterations into the message hub (one host read);
        whether there were any."""
        if not self._rows:
            return False
        rows = self._buf[:self._rows]
        self._rows = 0
        hub = runner.message_hub
        for row in self._read(rows):
            for key, value in zip(self._keys, row):
                hub.update_scalar(f'train/{key}', value)
        return True

    def _read(self, rows: torch.Tensor) -> list:
        """``rows`` on the host, each value the Python type ``.item()``
        would give for its key's tensor: the one host sync."""
        return [[kind(v) for kind, v in zip(self._kinds, row)]
                for row in rows.cpu().tolist()]

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # the runner took the hub's state before calling this hook
        if self.flush(runner):
            checkpoint['message_hub'] = apply_to(
                runner.message_hub.state_dict(),
                lambda x: hasattr(x, 'cpu'), lambda x: x.cpu())

    def before_val(self, runner) -> None:
        self.flush(runner)
        super().before_val(runner)

    def after_train(self, runner) -> None:
        # a loop stopped before its last iteration (stop_training) too
        self.flush(runner)
        super().after_train(runner)


def flush_logged_outputs(runner) -> None:
    """Bring the message hub's ``train/*`` scalars up to date: for a hook
    that reads them at iterations the logger does not log."""
    for hook in runner.hooks:
        if isinstance(hook, DeferredRuntimeInfoHook):
            hook.flush(runner)


def _held(value) -> bool:
    """Whether ``value`` is a tensor ``update_scalar`` would read with
    ``.item()`` and that a float64 row holds exactly (anything else is
    pushed at once, failing there as in MMEngine if it is no scalar)."""
    return torch.is_tensor(value) and value.numel() == 1 and \
        not value.is_complex()


def _python_kind(dtype: torch.dtype) -> Callable:
    if dtype == torch.bool:
        return bool
    return float if dtype.is_floating_point else int


def _row(held: Dict[str, torch.Tensor]) -> torch.Tensor:
    """One iteration's held values in float64, exact for every float type
    (and integers up to 2**53), on the first one's device."""
    values = list(held.values())
    device = values[0].device
    return torch.stack([v.detach().reshape(()).to(device, torch.float64)
                        for v in values])
