"""PlotCurvesHook: the run's curves as PNG files when training ends."""
import logging
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from ...analysis import plot_runs, read_run


@HOOKS.register_module()
class PlotCurvesHook(Hook):
    """Writes ``<work_dir>/plots/*.png`` (see ``analysis/curves.py``) after
    training, from the scalars the LocalVisBackend logged; the same figures
    come on demand from ``tools/analysis/plot_curves.py``."""
    priority = 'LOWEST'

    def after_train(self, runner) -> None:
        if not is_main_process():
            return
        out = osp.join(runner.work_dir, 'plots')
        try:
            paths = plot_runs([read_run(runner.work_dir)], out)
        # the run itself has finished well: a figure that cannot be drawn
        # is reported, not turned into a failed run
        except Exception as err:
            print_log(f'PlotCurvesHook: no curves drawn ({type(err).__name__}'
                      f': {err})', 'current', logging.WARNING)
            return
        if paths:
            names = ', '.join(osp.basename(p) for p in paths)
            print_log(f'curves: {out}/ ({names})', 'current')
