"""The prepared GPU check of dhkd_det: one run, one JSON.

    python tools/benchmarks/gpu_check.py --out $OUT/gpu_check.json
    python tools/benchmarks/gpu_check.py --smoke --out /tmp/smoke.json

What it measures: see dhkd_det/benchmarks/gpu_check.py.  The JSON is
printed on stdout as one line (logs and warnings go to stderr) and, with
``--out``, written to a file rewritten after every part.  ``--smoke`` runs
every part on the CPU with tiny models and data (the test suite runs it, so
that the check cannot rot).
"""
import argparse
import json
import os.path as osp
import signal
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402

# registers our modules and, where mmcv has no compiled ops, serves them
import dhkd_det  # noqa: E402,F401
from dhkd_det.benchmarks import (GPU, SMOKE, Report,  # noqa: E402
                                 run_gpu_check)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--out', help='write the JSON here too (rewritten '
                        'after every part)')
    parser.add_argument('--smoke', action='store_true',
                        help='every part on the CPU with tiny sizes')
    parser.add_argument('--budget', type=float,
                        help='seconds for all parts; a part is skipped when '
                        f'the rest is too short (default {GPU.budget}, '
                        f'smoke {SMOKE.budget})')
    parser.add_argument('--only', choices=['cls', 'det'],
                        help='run the classification or detection parts '
                        'alone (after env and ops)')
    return parser.parse_args()


def main():
    args = parse_args()
    if not args.smoke and not torch.cuda.is_available():
        sys.exit('gpu_check: no CUDA device here. This check measures the '
                 'GPU; run it on a machine with one, or with --smoke for the '
                 'CPU self-test of the script.')
    # Each runner formats its config with yapf twice when built (to log it
    # and to dump it to its work_dir): about a second per runner, for two
    # dozen runners whose config copies nobody reads.  Plain JSON instead.
    Config.pretty_text = property(
        lambda cfg: json.dumps(cfg.to_dict(), indent=1, default=str))
    # `timeout` stops a run with SIGTERM: leave through `finally`, so that
    # the summary is still written and the JSON printed
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(
        'gpu_check: stopped by SIGTERM'))
    # stdout carries the JSON alone; logs and warnings go to stderr
    stdout, sys.stdout = sys.stdout, sys.stderr
    report = Report(args.out, args.budget or
                    (SMOKE if args.smoke else GPU).budget)
    try:
        run_gpu_check(report, args.smoke, args.only)
    finally:
        sys.stdout = stdout
        # one line: it fits the tail of the output a remote run hands back
        print(json.dumps(report.data, separators=(',', ':')))


if __name__ == '__main__':
    main()
