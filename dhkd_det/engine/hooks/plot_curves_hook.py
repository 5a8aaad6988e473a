"""PlotCurvesHook: the run's curves as PNG files, redrawn at every
validation while training (in a background thread: training does not wait
for it), at the end, and when the run stops early (preempted, stopped by
the loss guard, crashed)."""
import logging
import os.path as osp
import threading
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS
from mmengine.runner import BaseLoop

from ...analysis import plot_runs, read_run


@HOOKS.register_module()
class PlotCurvesHook(Hook):
    """Writes ``<work_dir>/plots/*.png`` (see ``analysis/curves.py``) from
    the scalars the LocalVisBackend logged: after every ``interval``-th
    validation of a training run (``0``: none), after training, and when
    training ends with an exception (a preemption's exit, the loss guard's
    stop, a crash), so that a run that never finishes has its curves too.
    A validation's drawing runs in a background thread, so training goes
    on meanwhile (one drawing at a time: a validation that comes while the
    previous drawing runs is drawn by the next one); the end and a stop
    wait for it and draw in this thread.  The same figures come on demand
    from ``tools/analysis/plot_curves.py``.  A figure that cannot be drawn
    is logged as a warning, never turned into a failed run.

    Args:
        interval: draw after every ``interval`` validations (1: each).
    """
    priority = 'LOWEST'  # after the logger hook has written the scalars

    def __init__(self, interval: int = 1):
        if interval < 0:
            raise ValueError(f'PlotCurvesHook: interval must be >= 0, got '
                             f'{interval}')
        self.interval = interval
        self._training = False
        self._validations = 0
        self._drawing: Optional[threading.Thread] = None

    def before_run(self, runner) -> None:
        # Runner.train calls before_run once its train loop is built, then
        # loop.run(); no hook is called when that raises, so the loop's run
        # of this runner is wrapped (MMEngine's val / test runs have no
        # built train loop here and are left alone)
        loop = getattr(runner, '_train_loop', None)
        if not isinstance(loop, BaseLoop) or not is_main_process():
            return
        run = loop.run

        def run_then_draw_on_stop(*args, **kwargs):
            try:
                return run(*args, **kwargs)
            except BaseException as stop:
                self.wait()
                self.draw(runner, f'the run stopped: {type(stop).__name__}'
                          + (f' {stop}' if str(stop) else ''))
                raise

        loop.run = run_then_draw_on_stop

    def before_train(self, runner) -> None:
        self._training = True

    def after_val_epoch(self, runner, metrics=None) -> None:
        if not self._training or not self.interval:
            return
        self._validations += 1
        if self._validations % self.interval or not is_main_process() or \
                (self._drawing is not None and self._drawing.is_alive()):
            return
        self._drawing = threading.Thread(
            target=self.draw, args=(runner, f'after validation '
                                    f'{self._validations}'),
            name='PlotCurvesHook', daemon=True)
        self._drawing.start()

    def after_train(self, runner) -> None:
        self._training = False
        self.wait()
        self.draw(runner, 'training finished')

    def wait(self) -> None:
        """Until the background drawing, if any, is done."""
        if self._drawing is not None:
            self._drawing.join()
            self._drawing = None

    def draw(self, runner, when: str) -> list:
        """Draws the curves now (main process only); returns the files."""
        if not is_main_process():
            return []
        out = osp.join(runner.work_dir, 'plots')
        try:
            paths = plot_runs([read_run(runner.work_dir, live=True)], out)
        except Exception as err:
            print_log(f'PlotCurvesHook: no curves drawn ({when}; '
                      f'{type(err).__name__}: {err})', 'current',
                      logging.WARNING)
            return []
        if paths:
            names = ', '.join(osp.basename(p) for p in paths)
            print_log(f'curves: {out}/ ({names}; {when})', 'current')
        return paths
