"""Overhead of the CIFAR DHKD training step and of gradient alignment,
measured in one run.

    python tools/benchmarks/train_step.py [--batch 64] [--iters 9] [--warmup 2]
    python -m dhkd_det.benchmarks.train_step ...    # the same, installed

Prints the per-iteration time of
  (a) ``ClsDistiller.train_step`` with an ``OptimWrapper`` (SGD): the DHKD
      losses (CE on the main head, BinaryKLNorm on the nonlinear aux head),
      uint8 images and labels going through its ``ClsDataPreprocessor`` as
      in training;
  (b) a plain PyTorch loop doing the same compute: the same preprocessing
      (the same ``ClsDataPreprocessor`` module called directly: random crop,
      flip, normalisation), teacher forward under no_grad in eval mode,
      student forward, CE(main) + binary_kl_norm(aux), backward, SGD step,
      zero_grad;
  (c) (a) with ``GradAlignOptimWrapper``;
and the ratios a/b (the MMEngine/distiller machinery, target <= 1.05) and
c/a (the cost of gradient alignment, target <= 1.15), each as the median of
the ratios within a round, next to the ratio of the medians; and the minor
page faults per step of each (memory the allocator handed back to the
kernel and touches again: tools/benchmarks/allocators.py compares
allocators by them).  resnet32x4
teacher, resnet8x4 student, 100 classes, random init and random data, the
thread count left at torch's default.  Each variant has its own copy of the
models and optimizer state; the variants run round-robin so that drifts of
the (shared) machine hit all three alike.  About 11 rounds of
3 steps by default: 2-3 minutes on 2 busy cores.
"""
import argparse
import copy
import resource
import statistics

import torch
from mmengine.optim import OptimWrapper

from ..optim import GradAlignOptimWrapper
from .cls_step import (build_cls_distiller, plain_loop_step, random_batch,
                       sgd)
from .interleaved import interleaved_times


def counting_faults(step, faults: list):
    """``step`` appending the minor page faults of the whole process
    during each call to ``faults``."""
    def counted():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        step()
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt -
                      before)
    return counted


def main():
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--iters', type=int, default=9,
                        help='timed iterations per variant')
    parser.add_argument('--warmup', type=int, default=2,
                        help='untimed iterations per variant first')
    args = parser.parse_args()
    torch.manual_seed(0)

    base = build_cls_distiller()
    models = {name: copy.deepcopy(base) for name in 'abc'}
    wa = OptimWrapper(sgd(models['a']))
    wc = GradAlignOptimWrapper(sgd(models['c']))
    plain = plain_loop_step(models['b'], sgd(models['b']))
    data = random_batch(args.batch)
    steps = {
        '(a) ClsDistiller.train_step':
            lambda: models['a'].train_step(data, wa),
        '(b) plain PyTorch loop': lambda: plain(data),
        '(c) (a) + GradAlignOptimWrapper':
            lambda: models['c'].train_step(data, wc),
    }
    faults = {name: [] for name in steps}
    steps = {name: counting_faults(step, faults[name])
             for name, step in steps.items()}
    times = interleaved_times(steps, args.iters, args.warmup)
    names = list(steps)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    a, b, c = (times[name] for name in names)
    print(f'resnet32x4 -> resnet8x4 (nonlinear aux), batch {args.batch} x '
          f'3x32x32 uint8, CPU, {torch.get_num_threads()} threads, '
          f'{args.iters} rounds after {args.warmup} warm-up:')
    for name in names:
        print(f'  {name:34s} median {med[name] * 1000:8.1f} ms/iter, min '
              f'{min(times[name]) * 1000:8.1f}, minor page faults/step '
              f'{statistics.median(faults[name][args.warmup:]):.0f}')
    # Load from other jobs drifts on a shared machine; the median of the
    # ratios within a round compares steps run seconds apart.
    for label, num, den, target in (('a/b', a, b, 1.05),
                                    ('c/a', c, a, 1.15)):
        paired = statistics.median(n / d for n, d in zip(num, den))
        print(f'{label} = {paired:.3f} (median of per-round ratios; ratio of '
              f'medians {statistics.median(num) / statistics.median(den):.3f}'
              f'; target <= {target})')


if __name__ == '__main__':
    main()
