"""Overhead of the Faster R-CNN DHKD step, measured in one run.

    python tools/benchmarks/det_step.py [--size 320] [--batch 2] [--iters 5]

Prints the time of
  (a) a student-only training step (plain Faster R-CNN, MMDetection losses),
  (b) the teacher's no-grad backbone / neck / RoI box head forward on the
      same batch, on the RoIs the student sampled in a DHKD step,
  (c) the DHKD training step (DetDistiller: student with fc_cls_aux + the
      teacher on the student's sampled RoIs + BinaryKLNorm),
and the ratio (c) / ((a) + (b)) of the fastest runs; the distiller's own
work (aux classifier, loss, bookkeeping) should keep it at or below 1.05.
Random init (R50 student, R101 teacher by default), synthetic boxes; the
steps are interleaved, in rotating order, so that drifts of the machine hit
all three alike (dhkd_det/benchmarks/det_step.py; the GPU check measures
the same on the device).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import torch  # noqa: E402

import dhkd_det  # noqa: E402,F401
from dhkd_det.benchmarks.det_step import measure_det_steps  # noqa: E402


def main():
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--size', type=int, default=320)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--student-depth', type=int, default=50)
    parser.add_argument('--teacher-depth', type=int, default=101)
    args = parser.parse_args()
    result = measure_det_steps(args.student_depth, args.teacher_depth,
                               args.size, args.size, args.batch, 'cpu',
                               args.iters, args.warmup)
    print(f'Faster R-CNN R{args.student_depth} student / '
          f'R{args.teacher_depth} teacher, batch {args.batch} x '
          f'{args.size}x{args.size}, {result["rois"]} RoIs, '
          f'{torch.get_num_threads()} threads, best / median of '
          f'{args.iters}:')
    # the fastest run is the one least disturbed by other work on the
    # machine; the median shows how noisy the machine was
    for name, best in result['best_ms'].items():
        print(f'  {name:18s} {best:8.1f} ms / '
              f'{result["median_ms"][name]:8.1f} ms')
    print(f'ratio DHKD / (student-only + teacher forward) = '
          f'{result["ratio"]:.3f} (best runs; target <= 1.05)')


if __name__ == '__main__':
    main()
