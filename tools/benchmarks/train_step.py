"""Overhead of the CIFAR DHKD training step and of gradient alignment,
measured in one run.

    python tools/benchmarks/train_step.py [--batch 64] [--iters 9] [--warmup 2]

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
the ratios within a round, next to the ratio of the medians.  resnet32x4
teacher, resnet8x4 student, 100 classes, random init and random data, the
thread count left at torch's default.  Each variant has its own copy of the
models and optimizer state; the variants run round-robin so that drifts of
the (shared) machine hit all three alike.  About 11 rounds of
3 steps by default: 2-3 minutes on 2 busy cores.
"""
import argparse
import copy
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmengine.optim import OptimWrapper  # noqa: E402
from mmengine.registry import MODELS  # noqa: E402

import dhkd_det  # noqa: E402,F401
from dhkd_det.optim import GradAlignOptimWrapper  # noqa: E402
from dhkd_det.losses.binary_kl import binary_kl_norm  # noqa: E402

NUM_CLASSES = 100
TEMPERATURE = 2.0
SGD = dict(lr=0.05, momentum=0.9, weight_decay=5e-4)  # the CIFAR recipe


def build_distiller() -> torch.nn.Module:
    """The DHKD model of configs/_base_/dhkd_cifar100.py."""
    distiller = MODELS.build(dict(
        type='ClsDistiller',
        student=dict(type='DualHeadClassifier',
                     network=dict(type='resnet8x4', num_classes=NUM_CLASSES),
                     aux_head='nonlinear'),
        teacher=dict(type='resnet32x4', num_classes=NUM_CLASSES),
        task_losses=dict(main=dict(type='CELoss')),
        distill_losses=dict(aux=dict(type='BinaryKLNormLoss',
                                     temperature=TEMPERATURE)),
        data_preprocessor=dict(type='ClsDataPreprocessor', pad_crop=4,
                               flip=True)))
    distiller.teacher_loaded = True  # random-init teacher, nothing to load
    return distiller.train()


def raw_step(distiller, optimizer):
    """One step of (b) on the modules of ``distiller``, no MMEngine."""
    preprocess = distiller.data_preprocessor
    student, teacher = distiller.student, distiller.teacher

    def step(data):
        batch = preprocess(data, True)
        x, y = batch['inputs'], batch['data_samples']
        with torch.no_grad():
            t_logits = teacher(x)
        main, aux = student(x)
        loss = F.cross_entropy(main, y) + binary_kl_norm(aux, t_logits,
                                                         TEMPERATURE)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    return step


def timed(fn, data) -> float:
    start = time.perf_counter()
    fn(data)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--iters', type=int, default=9,
                        help='timed iterations per variant')
    parser.add_argument('--warmup', type=int, default=2,
                        help='untimed iterations per variant first')
    args = parser.parse_args()
    torch.manual_seed(0)

    base = build_distiller()
    models = {name: copy.deepcopy(base) for name in 'abc'}

    def sgd(model):
        return torch.optim.SGD(model.parameters(), **SGD)

    wa = OptimWrapper(sgd(models['a']))
    wc = GradAlignOptimWrapper(sgd(models['c']))
    steps = {
        '(a) ClsDistiller.train_step':
            lambda d: models['a'].train_step(d, wa),
        '(b) plain PyTorch loop': raw_step(models['b'], sgd(models['b'])),
        '(c) (a) + GradAlignOptimWrapper':
            lambda d: models['c'].train_step(d, wc),
    }
    data = dict(
        inputs=torch.randint(0, 256, (args.batch, 3, 32, 32),
                             dtype=torch.uint8),
        data_samples=torch.randint(0, NUM_CLASSES, (args.batch, )))

    names = list(steps)
    times = {name: [] for name in names}
    for i in range(args.warmup + args.iters):
        # rotate the order too, so that no variant always follows another
        for name in names[i % 3:] + names[:i % 3]:
            t = timed(steps[name], data)
            if i >= args.warmup:
                times[name].append(t)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    a, b, c = (times[name] for name in names)
    print(f'resnet32x4 -> resnet8x4 (nonlinear aux), batch {args.batch} x '
          f'3x32x32 uint8, CPU, {torch.get_num_threads()} threads, '
          f'{args.iters} rounds after {args.warmup} warm-up:')
    for name in names:
        print(f'  {name:34s} median {med[name] * 1000:8.1f} ms/iter, min '
              f'{min(times[name]) * 1000:8.1f}')
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
