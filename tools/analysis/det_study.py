"""The detection study: a Faster R-CNN teacher, then the student alone, with
KD on its main head, with DHKD's aux head, with both, and with DHKD's two
losses on one head, over several seeds, on crowded digit scenes
(dhkd_det/experiments/det_study.py; docs/det_study.md).

    python tools/analysis/det_study.py                     # the whole study
    python tools/analysis/det_study.py --temperature 4     # beside it, T=4
    python tools/analysis/det_study.py --smoke --out-dir /tmp/s   # ~1 min
    python tools/analysis/det_study.py --cpu-runs 2        # a 2-core CPU

Rerunning the same command skips the finished cells, resumes an
interrupted one and retries a failed one; it exits with status 1 while a
cell failed.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

# first: some of the warnings hidden are raised when a library is imported
from dhkd_det.utils.quiet import silence_library_warnings  # noqa: E402

silence_library_warnings()

from dhkd_det.experiments.det_study import (  # noqa: E402
    DEFAULT, VARIANTS, Losses, run_study, settings_for)
from dhkd_det.distillers.det_distiller import DetDistiller  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments, with ``settings`` and ``losses`` made of them."""
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--out-dir', default='det_study',
                        help='data, cells, table and figures go here')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help='seeds of every student variant')
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS),
                        choices=list(VARIANTS), metavar='VARIANT',
                        help=f'of {", ".join(VARIANTS)} (default: all)')
    parser.add_argument(
        '--cpu-runs', type=int, default=1,
        help='students trained side by side on a machine without GPUs, '
        'the cores shared out among them (OMP_NUM_THREADS, unless it is '
        'set); the teacher trains first, alone')
    parser.add_argument('--data-seed', type=int, default=0,
                        help='seeds the digit scenes and the teacher')
    sizes = parser.add_argument_group(
        'size (fixed for a study folder: its study.json records them)')
    sizes.add_argument('--num-train', type=int, default=None,
                       help=f'train images (default {DEFAULT.num_train})')
    sizes.add_argument('--num-val', type=int, default=None,
                       help=f'val images (default {DEFAULT.num_val})')
    sizes.add_argument('--epochs', type=int, default=None,
                       help=f'of each student (default {DEFAULT.epochs})')
    sizes.add_argument('--teacher-epochs', type=int, default=None,
                       help=f'default {DEFAULT.teacher_epochs}')
    sizes.add_argument('--smoke', action='store_true',
                       help='a few tiny images, tiny models, 1 epoch: '
                       'checks that everything runs')
    losses = parser.add_argument_group(
        'distillation (other values train their own cells, beside the '
        "defaults', e.g. dhkd_aux-T4/)")
    losses.add_argument('--temperature', type=float, default=2.0,
                        help='of KD and BinaryKLNorm')
    losses.add_argument('--aux-weight', type=float, default=1.0,
                        help='weight of BinaryKLNorm, on whichever head '
                        'it sits')
    losses.add_argument('--kd-weight', type=float, default=1.0,
                        help='weight of KD on the main head')
    losses.add_argument('--distill-rois', default='all',
                        choices=DetDistiller.DISTILL_ROIS,
                        help="the sampled RoIs distilled: 'all' (the "
                        "configs') or the 'foreground' ones only")
    args = parser.parse_args(argv)
    try:
        args.settings = settings_for(
            args.smoke, num_train=args.num_train, num_val=args.num_val,
            epochs=args.epochs, teacher_epochs=args.teacher_epochs)
    except ValueError as err:
        parser.error(f'--{err}'.replace('_', '-'))
    if args.temperature <= 0:
        parser.error(f'--temperature must be > 0, got {args.temperature}')
    args.losses = Losses(args.temperature, args.aux_weight, args.kd_weight,
                         args.distill_rois)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        result = run_study(args.out_dir, args.settings, args.seeds,
                           args.variants, args.losses, args.data_seed,
                           say=lambda line: print(line, flush=True),
                           cpu_runs=args.cpu_runs)
    except ValueError as err:  # --cpu-runs where GPUs are visible
        sys.exit(f'det_study: {err}')
    return 1 if result['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
