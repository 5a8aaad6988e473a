"""The CIFAR DHKD training step on the CPU under each memory allocator.

    python tools/benchmarks/allocators.py [--rounds 5] [--settings glibc ...]
        [-- train_step.py arguments, default --iters 5 --warmup 2]

Runs tools/benchmarks/train_step.py once per allocator setting and round
(glibc as it is, glibc with raised mmap / trim thresholds, jemalloc and
tcmalloc through LD_PRELOAD: see dhkd_det/benchmarks/allocators.py), the
settings round-robin, and prints per setting the median and range over the
rounds of ms per step, the ratios and the minor page faults per step, with
the machine's load average before and after (the machine may be shared).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

from dhkd_det.benchmarks.allocators import (SETTINGS,  # noqa: E402
                                            VARIANTS, compare_allocators)


def cell(figure, digits: int) -> str:
    median, low, high = figure
    return f'{median:.{digits}f} [{low:.{digits}f}-{high:.{digits}f}]'


def main():
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--settings', nargs='+', choices=list(SETTINGS),
                        default=list(SETTINGS))
    parser.add_argument('train_step_args', nargs='*',
                        default=['--iters', '5', '--warmup', '2'])
    args = parser.parse_args()
    load = os.getloadavg()
    results = compare_allocators(args.settings, args.rounds,
                                 args.train_step_args)
    print(f'train_step.py {" ".join(args.train_step_args)}, {args.rounds} '
          'rounds per setting, round-robin; median [min-max] over rounds; '
          f'load average before {load[0]:.2f}, after '
          f'{os.getloadavg()[0]:.2f}')
    for name, figures in results.items():
        if 'unavailable' in figures:
            print(f'{name}: unavailable: {figures["unavailable"]}')
            continue
        print(f'{name}: a/b {cell(figures["a/b"], 3)}, '
              f'c/a {cell(figures["c/a"], 3)}')
        for v, label in VARIANTS.items():
            print(f'  {label:14s} ms/step {cell(figures[f"{v}_ms"], 1)}, '
                  f'minor page faults/step {cell(figures[f"{v}_faults"], 0)}')


if __name__ == '__main__':
    main()
