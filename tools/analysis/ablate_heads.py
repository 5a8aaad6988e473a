"""The deciding experiment of DHKD in one command: train the same student,
teacher, seed and schedule with CE only, the logit-level loss only, both
losses on one head, and both on two heads (DHKD), optionally DHKD with
gradient alignment; then print and save the table (mean ± std over seeds of
top-1, NC1 / NC2, final gradient cosines where logged) and the overlaid
curves.

    python tools/analysis/ablate_heads.py configs/dhkd/cifar100_res56_res20.py \
        --seeds 0 1 2 --ga --cfg-options model.teacher_ckpt=PATH

Any classification distillation config works, with any data set it names;
--cfg-options (data roots, teacher checkpoint, epochs, ...) apply to every
run.  Each run is a child tools/train.py (dhkd_det.apis.train_in_subprocess)
given its merged config.  Results go to --out (default
work_dirs/ablate_<config>/): one work dir per variant and seed with its
merged config and console output (train_stdout.log), ablation.md,
ablation.json and plots/.
"""
import argparse
import os.path as osp
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)


from dhkd_det.checks import CfgOptionsAction  # noqa: E402
from dhkd_det.apis import RunFailed  # noqa: E402
from dhkd_det.experiments.ablation import (DEFAULT_VARIANTS, RENAMED,  # noqa
                                           VARIANTS, run_ablation)


def parse_args():
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('config', help='a classification distillation config')
    parser.add_argument('--variants', nargs='+',
                        choices=sorted(VARIANTS) + sorted(RENAMED),
                        default=list(DEFAULT_VARIANTS))
    parser.add_argument('--ga', action='store_true',
                        help='also run DHKD with gradient alignment')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument('--out', help='output folder')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        default={}, help='overrides for every run')
    return parser.parse_args()


def main():
    args = parse_args()
    name = osp.splitext(osp.basename(args.config))[0]
    out = osp.abspath(args.out or osp.join('work_dirs', f'ablate_{name}'))
    args.variants = [RENAMED.get(v, v) for v in args.variants]
    variants = list(args.variants) + (['dhkd_ga'] if args.ga and 'dhkd_ga'
                                      not in args.variants else [])
    start = time.time()
    try:
        result = run_ablation(args.config, out, variants, args.seeds,
                              options=args.cfg_options,
                              say=lambda line: print(line, flush=True))
    except RunFailed as err:
        sys.exit(f'ablate_heads: {err}')
    print(result['table'])
    print(f'table: {out}/ablation.md, curves: {out}/plots/ '
          f'({len(result["figures"])} figures; overview: '
          f'{result["overview"]}), {time.time() - start:.0f} s')


if __name__ == '__main__':
    main()
