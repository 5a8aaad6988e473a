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
all three alike.
"""
import argparse
import copy
import os.path as osp
import statistics
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import torch  # noqa: E402
from mmdet.registry import MODELS  # noqa: E402
from mmdet.testing import demo_mm_inputs  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.optim import OptimWrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import dhkd_det  # noqa: E402,F401
from dhkd_det.benchmarks.interleaved import interleaved_times  # noqa: E402
from dhkd_det.checkpoint.export import plain_student_state  # noqa: E402
from dhkd_det.heads import stage_cls_scores  # noqa: E402
from dhkd_det.testing import (CONFIGS, mmdet_model, resnet_fpn,  # noqa: E402
                              set_heads, with_overrides)


def detector(depth: int, dual: bool) -> dict:
    """MMDetection's Faster R-CNN with a ResNet of ``depth`` (random init,
    full-width FPN), with DHKD's dual heads or the plain ones."""
    return set_heads(with_overrides(mmdet_model(CONFIGS['faster_rcnn']),
                                    resnet_fpn(depth)), dual)


def sampled_rois(distiller, data) -> torch.Tensor:
    """The RoIs the teacher sees in one DHKD step on ``data``."""
    seen = []
    handle = distiller.teacher.roi_head.bbox_roi_extractor.\
        register_forward_pre_hook(lambda _, args: seen.append(args[1]))
    with torch.no_grad():
        distiller(**distiller.data_preprocessor(copy.deepcopy(data), True),
                  mode='loss')
    handle.remove()
    return seen[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=int, default=320)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--student-depth', type=int, default=50)
    parser.add_argument('--teacher-depth', type=int, default=101)
    args = parser.parse_args()
    init_default_scope('mmdet')
    MMLogger.get_current_instance().setLevel('WARNING')  # no init tables
    torch.manual_seed(0)

    distiller = MODELS.build(dict(
        type='DetDistiller',
        student=detector(args.student_depth, dual=True),
        teacher=detector(args.teacher_depth, dual=False),
        distill_losses=dict(aux=dict(type='BinaryKLNormLoss',
                                     temperature=2.0))))
    distiller.init_weights()
    distiller.teacher_loaded = True  # random-init teacher, nothing to load
    student = MODELS.build(detector(args.student_depth, dual=False))
    student.load_state_dict(plain_student_state(distiller.state_dict(),
                                                distiller))
    teacher = distiller.teacher
    distiller.train(), student.train()
    wrappers = {
        m: OptimWrapper(torch.optim.SGD(m.parameters(), lr=1e-4,
                                        momentum=0.9))
        for m in (distiller, student)
    }
    data = demo_mm_inputs(batch_size=args.batch,
                          image_shapes=(3, args.size, args.size),
                          num_items=[5] * args.batch, num_classes=80)
    inputs = distiller.data_preprocessor(copy.deepcopy(data),
                                         True)['inputs']
    rois = sampled_rois(distiller, data)

    @torch.no_grad()
    def teacher_forward():
        x = teacher.extract_feat(inputs)
        stage_cls_scores(teacher.roi_head, 0, x, rois)

    steps = {
        'student-only step': lambda: student.train_step(
            copy.deepcopy(data), wrappers[student]),
        'teacher forward': teacher_forward,
        'DHKD step': lambda: distiller.train_step(
            copy.deepcopy(data), wrappers[distiller]),
    }
    times = interleaved_times(steps, args.iters, args.warmup)
    # the fastest run is the one least disturbed by other work on the
    # machine; the median shows how noisy the machine was
    best = {name: min(ts) for name, ts in times.items()}
    print(f'Faster R-CNN R{args.student_depth} student / '
          f'R{args.teacher_depth} teacher, batch {args.batch} x '
          f'{args.size}x{args.size}, {len(rois)} RoIs, '
          f'{torch.get_num_threads()} threads, best / median of '
          f'{args.iters}:')
    for name, ts in times.items():
        print(f'  {name:18s} {best[name] * 1000:8.1f} ms / '
              f'{statistics.median(ts) * 1000:8.1f} ms')
    ratio = best['DHKD step'] / (best['student-only step'] +
                                 best['teacher forward'])
    print(f'ratio DHKD / (student-only + teacher forward) = {ratio:.3f} '
          f'(best runs; target <= 1.05)')


if __name__ == '__main__':
    main()
