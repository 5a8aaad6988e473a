"""What the diagnostics cost when they are not measuring, in one run.

    python tools/benchmarks/diagnostics_cost.py [--batch 64] [--rounds 11]

Times the DHKD training step (resnet32x4 -> resnet8x4, as
``train_step.py``) (a) without ``GradDiagnosticsHook`` and (b) with it
registered but between two measurements (its ``before_train_iter`` /
``after_train_iter`` run around every step, the probe stays off), and
prints the ratio b/a (target: 1, within the machine's noise) as the median
of the ratios within a round, the variants run round-robin, in rotating
order, on their own copies of the model.  It also prints (c) a measuring
step over (a): the price paid once per ``interval`` iterations.
"""
import argparse
import copy
import os.path as osp
import statistics
import sys
from types import SimpleNamespace

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import torch  # noqa: E402
from mmengine.logging import MessageHub  # noqa: E402
from mmengine.optim import OptimWrapper  # noqa: E402

import dhkd_det  # noqa: E402,F401
from dhkd_det.benchmarks.cls_step import (build_cls_distiller,  # noqa: E402
                                          random_batch)
from dhkd_det.benchmarks.interleaved import interleaved_times  # noqa: E402
from dhkd_det.engine import GradDiagnosticsHook  # noqa: E402


def main():
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--rounds', type=int, default=11)
    args = parser.parse_args()
    torch.manual_seed(0)
    base = build_cls_distiller()
    data = random_batch(args.batch)
    variants = {}
    for name in ('plain', 'hook_idle', 'hook_measuring'):
        model = copy.deepcopy(base)
        wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05,
                                               momentum=0.9))
        hook = None
        if name != 'plain':
            hook = GradDiagnosticsHook(
                interval=1 if name == 'hook_measuring' else 10**9)
        runner = SimpleNamespace(model=model, optim_wrapper=wrapper,
                                 iter=1, message_hub=MessageHub.get_instance(
                                     f'diagnostics_cost_{name}'))
        if hook is not None:
            hook.before_train(runner)
        variants[name] = (model, wrapper, hook, runner)

    def step(name):
        model, wrapper, hook, runner = variants[name]
        if hook is not None:
            hook.before_train_iter(runner, 0)
        model.train_step(data, wrapper)
        if hook is not None:
            hook.after_train_iter(runner, 0)

    times = interleaved_times(
        {name: lambda name=name: step(name) for name in variants},
        args.rounds, warmup=1)
    idle = [i / p for i, p in zip(times['hook_idle'], times['plain'])]
    measuring = [m / p for m, p in zip(times['hook_measuring'],
                                       times['plain'])]
    print(f'hook idle / no hook:      {statistics.median(idle):.3f} '
          f'(median of {args.rounds} rounds; min {min(idle):.3f}, '
          f'max {max(idle):.3f})')
    print(f'measuring step / no hook: {statistics.median(measuring):.3f}')


if __name__ == '__main__':
    main()
