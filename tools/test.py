"""Evaluate a checkpoint with the config's test loop and metric.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] \
        [--cfg-options ...] [--launcher pytorch]
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402
from mmengine.dist import get_rank  # noqa: E402

import dhkd_det  # noqa: E402,F401
from dhkd_det.checkpoint.atomic_file import atomic_write_text  # noqa: E402
from dhkd_det.utils import unwrapped_model  # noqa: E402
from dhkd_det.checkpoint.for_test import load_for_test  # noqa: E402
from dhkd_det.checks import check_data, check_label_range  # noqa: E402
from dhkd_det.apis import (  # noqa: E402
    build_runner, close_distributed, init_cpu_process_group,
    load_config)


def parse_args():
    parser = argparse.ArgumentParser(description='Test a model.')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the metrics')
    parser.add_argument('--out', help='dump the metrics to this json file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
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
    if not osp.isfile(args.checkpoint) and '://' not in args.checkpoint:
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} not found')
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    # loaded strictly below, not by MMEngine (strict=False)
    cfg.load_from = None
    cfg.resume = False
    check_data(cfg, ('test_dataloader', ))
    init_cpu_process_group(cfg)
    runner = build_runner(cfg)
    check_label_range(runner, ('test_dataloader', ))
    load_for_test(unwrapped_model(runner), args.checkpoint, args.config)
    metrics = runner.test()
    if get_rank() == 0:
        if args.out:
            atomic_write_text(args.out, json.dumps(
                {k: float(v) for k, v in metrics.items()}, indent=2))
        print('metrics: ' + ', '.join(f'{k}={float(v):.4f}'
                                      for k, v in metrics.items()),
              flush=True)
    close_distributed()


if __name__ == '__main__':
    main()
