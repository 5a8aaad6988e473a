"""What ``tools/test.py`` hands users, in MMDetection's conventions: the
predictions dumped to a pickle (``--out``), detections drawn
(``--show-dir``), and a run whose metric came back empty failing with the
reason instead of printing a bare ``metrics:`` and exiting 0."""
import math

from mmengine.config import Config
from mmengine.evaluator import DumpResults


def check_out_path(out: str) -> None:
    """``--out`` is MMDetection's predictions pickle."""
    if not out.endswith(('.pkl', '.pickle')):
        raise ValueError(
            f'--out {out}: --out dumps the predictions to a pickle file, as '
            "MMDetection's tools/test.py does: give a .pkl path. For the "
            'metrics as JSON use --metrics-out FILE.json.')


def draw_detections(cfg: Config, args) -> None:
    """``--show-dir``: MMDetection's ``trigger_visualization_hook`` on the
    config's ``default_hooks.visualization`` (``DetVisualizationHook``,
    which MMDetection's runtime base configures); a config without it is a
    named error (classification draws nothing)."""
    hook = (cfg.get('default_hooks') or {}).get('visualization')
    if not hook:
        raise ValueError(
            '--show-dir draws detections with MMDetection\'s '
            'DetVisualizationHook, and this config has no '
            'default_hooks.visualization: it is not a detection config, or '
            'add default_hooks = dict(visualization=dict('
            "type='DetVisualizationHook')) to it.")
    from mmdet.engine.hooks.utils import trigger_visualization_hook
    trigger_visualization_hook(cfg, args)


def add_prediction_dump(runner, out: str, detection: bool) -> None:
    """Dump the test predictions to ``out`` as MMDetection's tools/test.py
    does: its ``DumpDetResults`` for a detector (masks as RLE), MMEngine's
    ``DumpResults`` otherwise."""
    if detection:
        from mmdet.evaluation import DumpDetResults
        dump = DumpDetResults(out_file_path=out)
    else:
        dump = DumpResults(out_file_path=out)
    runner.test_evaluator.metrics.append(dump)


def check_metrics(runner, metrics: dict) -> None:
    """Raise naming the metric and the likely reason when an evaluator
    returned nothing (MMDetection's CocoMetric returns no key when the
    model predicted no box on any image, after logging "The testing
    results of the whole dataset is empty") or a value that is not a
    number."""
    scored = [m for m in runner.test_evaluator.metrics
              if not isinstance(m, DumpResults)]
    empty = []
    for metric in scored:
        prefix = getattr(metric, 'prefix', None)
        if prefix and not any(k.startswith(f'{prefix}/') for k in metrics):
            empty.append(f'{type(metric).__name__} (prefix {prefix!r})')
    if scored and not metrics:
        empty = empty or [type(m).__name__ for m in scored]
    if empty:
        raise RuntimeError(
            f'the test metric is empty: {", ".join(empty)} returned no '
            'value. For detection this means the model predicted no box on '
            'any test image (MMDetection logs "The testing results of the '
            'whole dataset is empty"): check that the checkpoint is the '
            "trained one, and the model's test_cfg score threshold "
            '(e.g. model.test_cfg.rcnn.score_thr).')
    bad = [k for k, v in metrics.items()
           if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        raise RuntimeError(f'the test metric is not a number: '
                           f'{", ".join(f"{k}={metrics[k]}" for k in bad)}')
