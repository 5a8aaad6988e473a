"""NeuralCollapseHook: NC1 / NC2 / NC3 of a classifier's penultimate
features, measured on the validation (and test) set and logged beside the
accuracy."""
import logging
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from ...evaluation.neural_collapse import ClassStats, neural_collapse
from ...utils.model import unwrapped_model


@HOOKS.register_module()
class NeuralCollapseHook(Hook):
    """Measures neural collapse (see ``evaluation/neural_collapse.py``) of
    the features that enter the main classifier, over a whole validation or
    test pass, from running per-class sums (no features are kept).

    The metrics are logged as ``nc1``, ``nc2_equinorm``, ``nc2_equiangle``,
    ``nc2_etf`` and ``nc3_<head>`` (one per linear head; a nonlinear aux head
    has no class vectors in the feature space and gets none) with the
    accuracy, and written by the visualiser backends with it.

    Args:
        feature_module: dotted path, in the model, of the main classifier:
            its input is the penultimate feature (default: the ``fc`` of a
            ``DualHeadClassifier`` student).
        heads: ``{name: dotted path}`` of the heads whose class vectors NC3
            compares with the class means.
    """
    priority = 'NORMAL'  # before LoggerHook, which prints the val metrics

    def __init__(self,
                 feature_module: str = 'student.network.fc',
                 heads: Optional[Dict[str, str]] = None):
        self.feature_module = feature_module
        self.heads = dict(main='student.network.fc',
                          aux='student.aux_head') if heads is None else heads
        self._stats: Optional[ClassStats] = None
        self._features = None
        self._handle = None

    def _module(self, runner, path: str) -> Optional[nn.Module]:
        try:
            return unwrapped_model(runner).get_submodule(path)
        except AttributeError:
            return None

    def _start(self, runner) -> None:
        module = self._module(runner, self.feature_module)
        if not isinstance(module, nn.Linear):
            raise ValueError(
                f'NeuralCollapseHook(feature_module={self.feature_module!r})'
                f': the model has no linear classifier at that path; set '
                'feature_module to the dotted path of the main classifier')
        self._stats = ClassStats(module.out_features, module.in_features,
                                 module.weight.device)
        self._handle = module.register_forward_pre_hook(self._capture)

    def _capture(self, module, args) -> None:
        self._features = args[0]

    def _update(self, outputs) -> None:
        if self._features is None or not outputs:
            return
        labels = torch.as_tensor([int(o['gt_label']) for o in outputs])
        self._stats.update(self._features, labels)
        self._features = None

    def _finish(self, runner, metrics: Optional[dict], mode: str) -> None:
        self._handle.remove()
        stats, self._stats = self._stats, None
        for tensor in stats.tensors():
            all_reduce(tensor)  # sums over processes; a no-op on one
        heads = {}
        for name, path in self.heads.items():
            head = self._module(runner, path)
            if isinstance(head, nn.Linear):
                heads[name] = head.weight
        try:
            values = neural_collapse(*stats.tensors(), heads=heads)
        except ValueError as err:
            print_log(f'NeuralCollapseHook: {err}', 'current',
                      logging.WARNING)
            return
        for key, value in values.items():
            runner.message_hub.update_scalar(f'{mode}/{key}', value)
        if metrics is not None:
            metrics.update(values)

    def before_val_epoch(self, runner) -> None:
        self._start(runner)

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._update(outputs)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._finish(runner, metrics, 'val')

    def before_test_epoch(self, runner) -> None:
        self._start(runner)

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._update(outputs)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._finish(runner, metrics, 'test')
