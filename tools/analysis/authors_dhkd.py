"""Run the DHKD authors' own CIFAR code (github.com/penghui-yang/DHKD) on our
benchmark beside ours, by the same recipe, and print the table: per variant
our top-1 and theirs (mean ± std over seeds) and the difference.

    python tools/analysis/authors_dhkd.py --authors-repo /path/to/DHKD \
        --config configs/dhkd/digit_pairs_res20_res8.py \
        --teacher-ckpt checkpoints/digit_pairs_resnet20.pth --seeds 0 1 2 \
        --out work_dirs/authors_vs_ours \
        [--variants ce kd dhkd_linear dhkd_nonlinear_ga] \
        [--ours-from work_dirs/sweeps/digit_pairs_study] [--cpu-runs 2]

--authors-repo is a checkout of theirs (git clone
https://github.com/penghui-yang/DHKD), run unchanged: each of their runs is
a child process of dhkd_det/experiments/authors_bootstrap.py, which makes
the few adaptations docs/authors_code.md lists.  Their recipe is read off
--config (a classification pair config, --cfg-options applied) and our
sweep's method configs of it.  Our side is read from --ours-from (a
tools/reproduce.py output folder) where it finished there, else trained.
Rerunning the same command finishes the table: finished runs are skipped,
failed ones are retried.  Results go to --out: theirs/<variant>/seed_<s>/
(their console in stdout.log, results.json), ours/ (cells trained here),
authors_vs_ours.md and authors_vs_ours.csv.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))


from dhkd_det.checks import CfgOptionsAction  # noqa: E402
from dhkd_det.experiments.authors_code import VARIANTS, compare  # noqa


def parse_args():
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--authors-repo', required=True,
                        help='a checkout of github.com/penghui-yang/DHKD')
    parser.add_argument('--config', required=True,
                        help='a classification pair config (ClsDistiller), '
                        'e.g. configs/dhkd/cifar100_res56_res20.py')
    parser.add_argument('--teacher-ckpt', help="the teacher both sides "
                        "distil from (default: the config's "
                        'model.teacher_ckpt)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--variants', nargs='+', choices=list(VARIANTS),
                        default=list(VARIANTS))
    parser.add_argument('--out', default='work_dirs/authors_vs_ours',
                        help='output folder')
    parser.add_argument('--ours-from', help='a sweep output folder '
                        '(tools/reproduce.py --out) holding our finished '
                        'cells <pair>/<method>/seed_<seed>')
    parser.add_argument('--pair', help='the pair\'s folder name in '
                        "--ours-from (default: the config's file name "
                        'without cifar100_)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        default={}, help='overrides for both sides')
    parser.add_argument(
        '--cpu-runs', type=int, default=1,
        help='runs side by side on a machine without GPUs, the cores shared '
        'out among them (OMP_NUM_THREADS, unless it is set)')
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        result = compare(args.authors_repo, args.config, args.out,
                         args.seeds, args.variants, args.teacher_ckpt,
                         args.ours_from, args.pair, args.cfg_options,
                         say=lambda line: print(line, flush=True),
                         cpu_runs=args.cpu_runs)
    except (FileNotFoundError, ValueError) as err:  # inputs, named
        sys.exit(f'authors_dhkd: {err}')
    print(result['markdown'])
    print('written: ' + ', '.join(result['files']))
    if result['failed']:
        sys.exit(f'{len(result["failed"])} runs failed '
                 f'({", ".join(result["failed"])}); rerun the same command '
                 'to retry them')


if __name__ == '__main__':
    main()
