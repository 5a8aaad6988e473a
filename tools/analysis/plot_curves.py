"""Plot the curves of one or more runs, overlaid (one PNG per group of
scalars: losses per head, top-1 of main / aux head and teacher, learning
rate, distillation scale and agreement, gradient diagnostics, neural
collapse).

    python tools/analysis/plot_curves.py WORK_DIR [WORK_DIR ...] [--out DIR]

Without --out the figures go to WORK_DIR/plots (the first work dir's).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from dhkd_det.analysis import plot_runs, read_run  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description='Plot training curves.')
    parser.add_argument('work_dirs', nargs='+', help='work dirs of runs')
    parser.add_argument('--out', help='folder for the PNG files')
    args = parser.parse_args()
    runs = [read_run(d) for d in args.work_dirs]
    out = args.out or osp.join(args.work_dirs[0], 'plots')
    paths = plot_runs(runs, out)
    if not paths:
        sys.exit(f'no scalars to plot in {args.work_dirs}')
    print('\n'.join(paths))


if __name__ == '__main__':
    main()
