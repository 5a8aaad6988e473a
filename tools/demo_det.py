"""The offline detection demo: DHKD on Faster R-CNN, end to end, on
scikit-learn's digits written as a COCO set, in about 4 minutes on 2 idle
CPU cores (see dhkd_det/experiments/demo_det.py for what it runs).

    python tools/demo_det.py                 # the default run (~4 min)
    python tools/demo_det.py --smoke         # a ~30 s check that it all runs
    python tools/demo.py --task det ...      # the same, from the demo
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

# first: some of the warnings hidden are raised when a library is imported
from dhkd_det.utils.quiet import silence_library_warnings  # noqa: E402

silence_library_warnings()

from dhkd_det.experiments.demo_det import (DEFAULT, run_demo,  # noqa: E402
                                           settings_for)


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments, with ``settings`` (the size of the run) made of
    them."""
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--work-dir', default='demo_det_runs',
                        help='data, runs, figures and results.json go here')
    parser.add_argument('--seed', type=int, default=0,
                        help='seeds the data set and every run')
    parser.add_argument('--smoke', action='store_true',
                        help='a few tiny images, tiny models, 1 epoch: '
                        'checks that everything runs (about a minute)')
    parser.add_argument('--epochs', type=int, default=None,
                        help='epochs of each student (default '
                        f'{DEFAULT.epochs}; the teacher gets '
                        '--teacher-epochs)')
    parser.add_argument('--teacher-epochs', type=int, default=None,
                        help=f'default {DEFAULT.teacher_epochs}')
    args = parser.parse_args(argv)
    try:
        args.settings = settings_for(args.smoke, args.epochs,
                                     args.teacher_epochs)
    except ValueError as err:
        parser.error(f'--{err}'.replace('_', '-'))
    return args


def main(argv=None) -> dict:
    """Runs the demo with the command line ``argv`` (tools/demo.py hands
    over its arguments after ``--task det``); returns its results."""
    args = parse_args(argv)
    return run_demo(args.work_dir, args.seed, args.settings)


if __name__ == '__main__':
    main()
