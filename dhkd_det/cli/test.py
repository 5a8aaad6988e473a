"""Evaluate a checkpoint with the config's test loop and metric
(MMDetection's flags).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] \
        [--out predictions.pkl] [--show-dir DIR] [--metrics-out m.json] \
        [--cfg-options ...] [--launcher pytorch|slurm]

--out dumps the predictions as MMDetection's tools/test.py does (its
DumpDetResults for a detector, MMEngine's DumpResults for a classifier),
the file MMDetection's analyze_results.py and confusion_matrix.py read.
An evaluator that returns no metric (no prediction on any image) ends the
run with exit status 1 and the reason.
"""
import argparse
import json
import os
import os.path as osp
from types import SimpleNamespace

from mmengine.dist import get_rank  # noqa: E402

import dhkd_det  # noqa: E402,F401
from dhkd_det.checks import CfgOptionsAction  # noqa: E402
from dhkd_det.checkpoint.atomic_file import atomic_write_text  # noqa: E402
from dhkd_det.utils import unwrapped_model  # noqa: E402
from dhkd_det.checkpoint.for_test import load_for_test  # noqa: E402
from dhkd_det.checks import check_label_range, check_preflight  # noqa: E402
from dhkd_det.checks.labels import detector_class_count  # noqa: E402
from dhkd_det.apis import (  # noqa: E402
    build_runner, close_distributed, init_cpu_process_group,
    load_config)
from dhkd_det.apis.failed_start import note_work_dir, run_tool  # noqa: E402
from dhkd_det.apis.held_console import (  # noqa: E402
    ReleaseConsoleHook, hold_console)
from dhkd_det.apis.test_outputs import (  # noqa: E402
    add_prediction_dump, check_metrics, check_out_path, draw_detections)


def parse_args():
    parser = argparse.ArgumentParser(description='Test a model.')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the metrics')
    parser.add_argument(
        '--out', help='dump the predictions to this pickle file (.pkl), '
        "as MMDetection's tools/test.py does, for offline evaluation")
    parser.add_argument(
        '--show-dir', help='detection: draw the predictions on the test '
        "images with MMDetection's DetVisualizationHook into this folder, "
        'under the work dir\'s timestamped folder as MMDetection does')
    parser.add_argument('--metrics-out',
                        help='write the metrics to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config keys')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    if args.out is not None:
        check_out_path(args.out)
    if not osp.isfile(args.checkpoint) and '://' not in args.checkpoint:
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} not found')
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    note_work_dir(cfg.work_dir)  # where a failure's traceback goes
    if args.show_dir:
        draw_detections(cfg, SimpleNamespace(show=False, wait_time=0,
                                             show_dir=args.show_dir))
    # loaded strictly below, not by MMEngine (strict=False)
    cfg.load_from = None
    cfg.resume = False
    check_preflight(cfg, ('test_dataloader', ), subject=args.config)
    init_cpu_process_group(cfg)
    hold_console()  # printed once the test starts (held_console.py)
    runner = build_runner(cfg)
    runner.register_hook(ReleaseConsoleHook())
    runner.prepared = True  # a DHKDRunner: checked here
    check_label_range(runner, ('test_dataloader', ))
    load_for_test(unwrapped_model(runner), args.checkpoint, args.config)
    if args.out is not None:
        add_prediction_dump(
            runner, args.out,
            detection=detector_class_count(unwrapped_model(runner))
            is not None)
    metrics = runner.test()
    check_metrics(runner, metrics)
    if get_rank() == 0:
        if args.metrics_out:
            atomic_write_text(args.metrics_out, json.dumps(
                {k: float(v) for k, v in metrics.items()}, indent=2))
        print('metrics: ' + ', '.join(f'{k}={float(v):.4f}'
                                      for k, v in metrics.items()),
              flush=True)
    close_distributed()



def run():
    """The command (``dhkd-test``, ``tools/test.py``): ``main`` with a failed
    start's short console report (the traceback goes to the log)."""
    run_tool(main, 'test')


if __name__ == '__main__':
    run()
