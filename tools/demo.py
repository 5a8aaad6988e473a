"""The offline demo: the whole DHKD job, end to end, on real data that ships
with scikit-learn, in about 10 minutes on 2 CPU cores.

scikit-learn's handwritten digits (1,797 8x8 grey images, 10 classes) are
upsampled to 32x32 RGB and written in CIFAR's on-disk layout; then, through
the very configs and runner `tools/train.py` uses (shrunk only in classes,
epochs and loader workers; horizontal flips off, as a mirrored digit is not a
digit):
  1. a resnet56 teacher trained with CE      (configs/teachers/cifar100_resnet56.py)
  2. a resnet20 student with CE only         (configs/ce/cifar100_resnet8x4.py,
                                              its network set to resnet20)
  3. a resnet20 student with KD              (configs/kd/cifar100_res32x4_res8x4.py,
                                              its pair set to resnet56 -> resnet20)
  4. a resnet20 student with DHKD            (configs/dhkd/cifar100_res56_res20.py:
                                              BinaryKLNorm aux head + GA)
and each is evaluated on the held-out digits.  resnet56 -> resnet20, one of
the paper's CIFAR pairs, replaces the quick start's resnet32x4 -> resnet8x4
so that the run fits about 10 minutes on 2 cores.

    python tools/demo.py                     # the default run, prints a table
    python tools/demo.py --epochs 1 --max-train 128   # a smoke run
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import Tuple

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import torch  # noqa: E402

import dhkd_det  # noqa: E402,F401
from dhkd_det.datasets import digits_as_cifar  # noqa: E402
from dhkd_det.engine.runner_utils import build_runner, load_config  # noqa

TEACHER, STUDENT = 'resnet56', 'resnet20'


def run(name: str, config: str, work_root: str, data_root: str, epochs: int,
        overrides: dict) -> Tuple[float, str]:
    """Train one config with the demo's shrink-overrides, test it, return
    the main head's top-1 and the checkpoint."""
    m = [max(1, epochs * 150 // 240), max(1, epochs * 180 // 240),
         max(1, epochs * 210 // 240)]
    options = {
        'train_dataloader.dataset.data_root': data_root,
        'val_dataloader.dataset.data_root': data_root,
        'test_dataloader.dataset.data_root': data_root,
        'train_dataloader.dataset.check_md5': False,
        'val_dataloader.dataset.check_md5': False,
        'test_dataloader.dataset.check_md5': False,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
        'train_cfg.max_epochs': epochs,
        'train_cfg.val_interval': epochs + 1,  # test once, at the end
        'param_scheduler.milestones': m,
        'default_hooks.checkpoint.interval': epochs,
        'default_hooks.logger.interval': 10,
        'randomness.seed': 0,
        # a mirrored digit is not a digit: the recipe's flip stays off here
        'model.data_preprocessor.flip': False,
        'log_level': 'WARNING',
        **overrides,
    }
    cfg = load_config(osp.join(REPO, config), options,
                      osp.join(work_root, name))
    start = time.time()
    runner = build_runner(cfg)
    runner.train()
    metrics = runner.test()
    print(f'[demo] {name}: top-1 {metrics["top1"]:.2f}% '
          f'({time.time() - start:.0f} s)', flush=True)
    return metrics['top1'], osp.join(cfg.work_dir, f'epoch_{epochs}.pth')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='demo_runs')
    parser.add_argument('--epochs', type=int, default=30)
    parser.add_argument('--max-train', type=int, default=0,
                        help='use only this many training images (smoke runs)')
    args = parser.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    t0 = time.time()
    data_root = osp.abspath(osp.join(args.work_dir, 'data'))
    sizes = digits_as_cifar(data_root, args.max_train)
    print(f'[demo] digits in CIFAR layout at {data_root}: {sizes}',
          flush=True)
    classes = {'model.student.network.num_classes': 10}
    teacher_top1, teacher_ckpt = run(
        'teacher_' + TEACHER, 'configs/teachers/cifar100_resnet56.py',
        args.work_dir, data_root, args.epochs, classes)
    distill = {**classes, 'model.teacher.num_classes': 10,
               'model.teacher.type': TEACHER,
               'model.student.network.type': STUDENT,
               'model.teacher_ckpt': teacher_ckpt}
    rows = [(f'teacher {TEACHER} (CE)', teacher_top1)]
    rows.append((f'student {STUDENT}, CE only', run(
        'student_ce', 'configs/ce/cifar100_resnet8x4.py', args.work_dir,
        data_root, args.epochs,
        {**classes, 'model.student.network.type': STUDENT})[0]))
    rows.append((f'student {STUDENT}, KD (T=4)', run(
        'student_kd', 'configs/kd/cifar100_res32x4_res8x4.py', args.work_dir,
        data_root, args.epochs, distill)[0]))
    rows.append((f'student {STUDENT}, DHKD (BinaryKLNorm aux head, GA)', run(
        'student_dhkd', 'configs/dhkd/cifar100_res56_res20.py',
        args.work_dir, data_root, args.epochs, distill)[0]))

    width = max(len(r[0]) for r in rows)
    print(f'\nDHKD offline demo: scikit-learn digits upsampled to 32x32 '
          f'({sizes["train"]} train / {sizes["test"]} test images), '
          f'{args.epochs} epochs each, {time.time() - t0:.0f} s in all')
    print(f'| {"model".ljust(width)} | top-1 (%) |')
    print(f'|{"-" * (width + 2)}|-----------|')
    for name, top1 in rows:
        print(f'| {name.ljust(width)} | {top1:9.2f} |')
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(dict(rows), f, indent=2)


if __name__ == '__main__':
    main()
