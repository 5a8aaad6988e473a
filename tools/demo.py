"""The offline demo: DHKD's deciding experiment, end to end, on real data
that ships with scikit-learn, in about 4 minutes on 2 CPU cores.

scikit-learn's handwritten digits (1,797 8x8 grey images, 10 classes) are
upsampled to 32x32 RGB and written in CIFAR's on-disk layout; then, through
the very configs and runner `tools/train.py` uses (shrunk only in classes,
epochs and loader workers; horizontal flips off, as a mirrored digit is not a
digit):
  1. a resnet32 teacher trained with CE
     (configs/teachers/cifar100_resnet56.py, its network set to resnet32)
  2. the ablation of tools/analysis/ablate_heads.py on the DHKD config
     (configs/dhkd/cifar100_res56_res20.py, its pair set to resnet32 ->
     resnet8): the same resnet8 student, seed and schedule trained with
       ce_only        CE on its one head (the student alone)
       logit_only     BinaryKLNorm on its one head
       both_one_head  CE + BinaryKLNorm on one shared head
       dhkd           CE on the main head, BinaryKLNorm on an aux head
     (--ga adds dhkd_ga, DHKD with gradient alignment; --seeds 0 1 2
     repeats each over seeds), each with the gradient diagnostics and
     neural-collapse metrics logged;
and prints the teacher's top-1 and the ablation table, and saves the curves
(demo_runs/ablation/plots/ablation.png is the one-figure overview).

    python tools/demo.py                  # the default run
    python tools/demo.py --seeds 0 1 2    # mean ± std over 3 seeds (~8 min)
    python tools/demo.py --smoke          # a 1-epoch run on a subset (tests)
    python tools/demo.py --task det       # the detection demo (demo_det.py)
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import torch  # noqa: E402

from dhkd_det.analysis import read_run  # noqa: E402
from dhkd_det.experiments.ablation import (DEFAULT_VARIANTS,  # noqa: E402
                                        run_ablation)
from dhkd_det.datasets import digits_as_cifar  # noqa: E402
from dhkd_det.utils.quiet import silence_library_warnings  # noqa: E402
from dhkd_det.apis import train_in_process  # noqa: E402

TEACHER, STUDENT = 'resnet32', 'resnet8'
TEACHER_CONFIG = 'configs/teachers/cifar100_resnet56.py'
DHKD_CONFIG = 'configs/dhkd/cifar100_res56_res20.py'


def shrink_options(data_root: str, epochs: int, seed=None) -> dict:
    """What the demo changes in the CIFAR-100 configs: the data, classes,
    epochs (milestones scaled from 240), no workers, validation every epoch
    (curves), no flips, quiet logging."""
    milestones = [max(1, epochs * m // 240) for m in (150, 180, 210)]
    options = {
        'train_cfg.max_epochs': epochs,
        'train_cfg.val_interval': 1,
        'param_scheduler.milestones': milestones,
        'default_hooks.checkpoint.interval': epochs,
        # a mirrored digit is not a digit: the recipe's flip stays off here
        'model.data_preprocessor.flip': False,
        'model.student.network.num_classes': 10,
        'log_level': 'WARNING',
    }
    if seed is not None:  # (the ablation's runs have theirs in their config)
        options['randomness.seed'] = seed
    for split in ('train', 'val', 'test'):
        options.update({
            f'{split}_dataloader.dataset.data_root': data_root,
            f'{split}_dataloader.dataset.check_md5': False,
            f'{split}_dataloader.num_workers': 0,
            f'{split}_dataloader.persistent_workers': False,
        })
    return options


def train(config: str, work_dir: str, label: str, options: dict) -> None:
    """One run, in this process, with a progress line per epoch."""
    train_in_process(config, options, work_dir, label,
                     [dict(type='ProgressHook', label=label)])


def last_top1(work_dir: str) -> float:
    return read_run(work_dir).series('val', 'top1')[1][-1]


def parse_args(argv=None):
    """(the classification demo's arguments, the task); with --task det
    the other arguments are left for demo_det.py to parse."""
    task_parser = argparse.ArgumentParser(add_help=False)
    task_parser.add_argument('--task', choices=['cls', 'det'], default='cls')
    task, rest = task_parser.parse_known_args(argv)
    if task.task == 'det':
        return rest, 'det'
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                     parents=[task_parser])
    parser.add_argument('--work-dir', default='demo_runs')
    parser.add_argument('--epochs', type=int, default=12,
                        help='epochs of every student')
    parser.add_argument('--teacher-epochs', type=int, default=12)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0],
                        help='seeds of the students (mean ± std over them '
                        'in the table); the data split and the teacher use '
                        'the first')
    parser.add_argument('--ga', action='store_true',
                        help='also run DHKD with gradient alignment')
    parser.add_argument('--max-train', type=int, default=0,
                        help='use only this many training images')
    parser.add_argument('--smoke', action='store_true',
                        help='1 epoch on 96 training images (tests)')
    return parser.parse_args(argv), 'cls'


def main(argv=None):
    args, task = parse_args(argv)
    if task == 'det':  # its own arguments, help included
        import demo_det  # tools/ is on sys.path when this runs as a script
        return demo_det.main(args)
    if args.smoke:
        args.epochs = args.teacher_epochs = 1
        args.max_train = args.max_train or 96
    silence_library_warnings()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    start = time.time()
    work = osp.abspath(args.work_dir)
    data_root = osp.join(work, 'data')
    sizes = digits_as_cifar(data_root, args.max_train, seed=args.seeds[0])
    print(f'[demo] digits in CIFAR layout at {data_root}: '
          f'{sizes["train"]} train / {sizes["test"]} test images', flush=True)

    print(f'[demo] 1/2: the teacher, {TEACHER} trained with CE for '
          f'{args.teacher_epochs} epochs', flush=True)
    teacher_dir = osp.join(work, f'teacher_{TEACHER}')
    train(osp.join(REPO, TEACHER_CONFIG), teacher_dir, f'teacher {TEACHER}',
          {**shrink_options(data_root, args.teacher_epochs, args.seeds[0]),
           'model.student.network.type': TEACHER})
    teacher_top1 = last_top1(teacher_dir)

    variants = list(DEFAULT_VARIANTS) + (['dhkd_ga'] if args.ga else [])
    print(f'[demo] 2/2: the {STUDENT} student, {args.epochs} epochs, one '
          f'run per variant: {", ".join(variants)}', flush=True)
    options = {**shrink_options(data_root, args.epochs),
               'model.student.network.type': STUDENT,
               'model.teacher.type': TEACHER,
               'model.teacher.num_classes': 10,
               'model.teacher_ckpt': osp.join(
                   teacher_dir, f'epoch_{args.teacher_epochs}.pth')}
    out = osp.join(work, 'ablation')
    result = run_ablation(
        osp.join(REPO, DHKD_CONFIG), out, variants, args.seeds,
        train=lambda config, work_dir, label: train(config, work_dir, label,
                                                    options),
        say=lambda line: print(f'[demo] {line}', flush=True),
        title=f'digits, {TEACHER} -> {STUDENT}')

    print(f'\nDHKD offline demo: scikit-learn digits at 32x32 '
          f'({sizes["train"]} train / {sizes["test"]} test images), seeds '
          f'{" ".join(map(str, args.seeds))}, {time.time() - start:.0f} s '
          'in all')
    alone = [r for r in result['rows'] if r['variant'] == 'ce_only']
    print(f'teacher {TEACHER} (CE, {args.teacher_epochs} epochs): top-1 '
          f'{teacher_top1:.2f}%' + (
              f' (the student alone: {alone[0]["top-1 last"]}%)' if alone
              else '') + '\n')
    print(f'student {STUDENT}, {args.epochs} epochs per variant '
          '(cos_*: last cosine between the CE and BinaryKLNorm gradients; '
          'conflict_*: fraction of measured steps where it was negative; '
          'nc1 / nc2_etf: neural collapse of the penultimate features):')
    print(result['table'])
    print(f'\nfigure: {result["overview"]}\nall curves: '
          f'{osp.dirname(result["overview"])}/')
    with open(osp.join(work, 'results.json'), 'w') as f:
        json.dump(dict(teacher=dict(network=TEACHER, top1=teacher_top1),
                       student=STUDENT, ablation=result['rows'],
                       figure=result['overview']), f, indent=1)


if __name__ == '__main__':
    main()
