"""ProgressHook: one short line per epoch with the time left, for runs whose
MMEngine logging is turned down (the demos)."""
import sys
import time
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from .deferred_runtime_info_hook import flush_logged_outputs

#: validation metrics shown on the progress line, when the evaluator logs them
SHOWN_METRICS = ('top1', 'aux/top1', 'coco/bbox_mAP', 'coco/bbox_mAP_50')


@HOOKS.register_module()
class ProgressHook(Hook):
    """Prints ``[label] epoch k/N  loss x  <val metrics>  t s, ETA s`` after
    every epoch (after its validation when one follows), and with
    ``interval > 0`` also every ``interval`` iterations inside an epoch.

    The loss is the mean of ``train/loss`` over the iterations since the
    previous line, read from the message hub where the runtime-info hook put
    it (no extra host sync at the logger's interval and epoch ends; a line
    at other iterations brings the hub up to date first, with one).  The
    time left is the wall time so far (validation included) scaled to the
    iterations left.
    Only the main process prints.

    Args:
        label: printed in brackets at the start of every line.
        interval: iterations between lines inside an epoch; 0 prints one
            line per epoch only.
    """
    priority = 'LOW'  # after the runtime-info hook has logged the iteration

    def __init__(self, label: str = '', interval: int = 0):
        if interval < 0:
            raise ValueError(f'ProgressHook interval must be >= 0, got '
                             f'{interval}')
        self.label = label
        self.interval = interval
        self._start = 0.0
        self._start_iter = 0
        self._since_line = 0
        self._pending: Optional[str] = None

    def before_train(self, runner) -> None:
        self._start = time.perf_counter()
        self._start_iter = runner.iter
        self._since_line = 0
        self._pending = None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        self._since_line += 1
        if (self.interval and self.every_n_inner_iters(batch_idx,
                                                       self.interval)
                and not self.end_of_epoch(runner.train_dataloader,
                                          batch_idx)):
            self._print(f'{self._where(runner)} iter {batch_idx + 1}/'
                        f'{len(runner.train_dataloader)}  '
                        f'{self._loss(runner)}  {self._time(runner)}')

    def after_train_epoch(self, runner) -> None:
        line = f'{self._where(runner)}  {self._loss(runner)}'
        if self._validates_after(runner):
            self._pending = line  # printed with the validation's metrics
        else:
            self._print(f'{line}  {self._time(runner)}')

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self._pending is None:
            return
        shown = '  '.join(f'{k} {v:.2f}' for k, v in (metrics or {}).items()
                          if k in SHOWN_METRICS and isinstance(v, float))
        self._print(f'{self._pending}  {shown}  {self._time(runner)}'.replace(
            '    ', '  '))
        self._pending = None

    # ------------------------------------------------------------------
    def _where(self, runner) -> str:
        loop = runner.train_loop
        if hasattr(loop, 'max_epochs'):
            width = len(str(loop.max_epochs))
            return (f'[{self.label}] epoch {runner.epoch + 1:>{width}}/'
                    f'{loop.max_epochs}')
        return f'[{self.label}] iter {runner.iter + 1}/{runner.max_iters}'

    def _loss(self, runner) -> str:
        flush_logged_outputs(runner)
        history = runner.message_hub.log_scalars.get('train/loss')
        if history is None or not self._since_line:
            return ''
        loss = history.mean(self._since_line)
        self._since_line = 0
        return f'loss {loss:.4f}'

    def _time(self, runner) -> str:
        elapsed = time.perf_counter() - self._start
        done = runner.iter - self._start_iter
        left = runner.max_iters - runner.iter
        eta = elapsed / done * left if done else float('nan')
        return f'{elapsed:.0f} s, ETA {eta:.0f} s'

    @staticmethod
    def _validates_after(runner) -> bool:
        """Whether the train loop runs a validation after this epoch (the
        test EpochBasedTrainLoop makes once the epoch is counted)."""
        loop = runner.train_loop
        if runner.val_loop is None or not hasattr(loop, 'max_epochs'):
            return False
        epoch = runner.epoch + 1
        return epoch >= loop.val_begin and (
            epoch % loop.val_interval == 0 or epoch == loop.max_epochs)

    def _print(self, line: str) -> None:
        if is_main_process():
            print(line, file=sys.stdout, flush=True)
