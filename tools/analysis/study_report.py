"""The diagnostics of a sweep's finished runs, per method: top-1, neural
collapse, and the gradient cosines of the task and distillation losses on
the main head and the backbone with the share of steps where they conflict
(dhkd_det/experiments/study_report.py; docs/study.md).

    python tools/analysis/study_report.py configs/sweeps/digit_pairs_study.py
    python tools/analysis/study_report.py SWEEP --out work_dirs/my_sweep

It reads the same --out folder as tools/reproduce.py (default
work_dirs/sweeps/<sweep>/) and writes diagnostics.md, diagnostics.csv,
diagnostics.json and one figure per pair there.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from dhkd_det.experiments.study_report import study_report  # noqa: E402
from dhkd_det.experiments.sweep import load_sweep  # noqa: E402


def main():
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('sweep', help='a sweep file, e.g. '
                        'configs/sweeps/digit_pairs_study.py')
    parser.add_argument('--out', help="the sweep's output folder (default: "
                        'work_dirs/sweeps/<sweep>/, as tools/reproduce.py)')
    args = parser.parse_args()
    sweep = load_sweep(args.sweep)
    out = osp.abspath(args.out or osp.join('work_dirs', 'sweeps',
                                           sweep.name))
    if not osp.isdir(out):
        sys.exit(f'{out} does not exist: run tools/reproduce.py '
                 f'{args.sweep} first, or give its --out')
    report = study_report(sweep, out)
    if not report['rows']:
        sys.exit(f'no finished run in {out} yet: nothing to report')
    print(report['markdown'])
    print('written: ' + ', '.join(report['files']))


if __name__ == '__main__':
    main()
