"""The Faster R-CNN DHKD step against its unavoidable parts, measured by
tools/benchmarks/det_step.py on the CPU and by the GPU check's
``det_step_ratio`` on the device: (a) a student-only training step (plain
Faster R-CNN, MMDetection's losses), (b) the teacher's no-grad backbone /
neck / RoI box head forward on the same batch, on the RoIs the student
sampled in a DHKD step, (c) the DHKD training step; the distiller's own work
(aux classifier, loss, bookkeeping) is what (c) / ((a) + (b)) shows above 1.
Random init, synthetic boxes; the steps interleaved, in rotating order, so
that drifts of the machine hit all three alike."""
import copy
import statistics
from typing import Callable, Dict, List, Tuple

import torch
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

from ..checkpoint.export import plain_student_state
from ..heads import stage_cls_scores
from ..testing import (CONFIGS, mmdet_model, resnet_fpn, set_heads,
                       with_overrides)
from .interleaved import interleaved_times
from .timers import synchronize

STEPS = ('student-only step', 'teacher forward', 'DHKD step')


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


def det_steps(student_depth: int, teacher_depth: int, height: int,
              width: int, batch: int,
              device: str) -> Tuple[Dict[str, Callable[[], None]], int]:
    """The three steps of STEPS on one batch of ``batch`` random
    ``height`` x ``width`` images on ``device``, each returning when its
    work on the device is done, and the number of RoIs the teacher forward
    sees."""
    from mmdet.registry import MODELS
    from mmdet.testing import demo_mm_inputs
    init_default_scope('mmdet')
    MMLogger.get_current_instance().setLevel('WARNING')  # no init tables
    torch.manual_seed(0)
    distiller = MODELS.build(dict(
        type='DetDistiller',
        student=detector(student_depth, dual=True),
        teacher=detector(teacher_depth, dual=False),
        distill_losses=dict(aux=dict(type='BinaryKLNormLoss',
                                     temperature=2.0))))
    distiller.init_weights()
    distiller.teacher_loaded = True  # random-init teacher, nothing to load
    student = MODELS.build(detector(student_depth, dual=False))
    student.load_state_dict(plain_student_state(distiller.state_dict(),
                                                distiller))
    distiller.to(device).train(), student.to(device).train()
    teacher = distiller.teacher
    wrappers = {
        m: OptimWrapper(torch.optim.SGD(m.parameters(), lr=1e-4,
                                        momentum=0.9))
        for m in (distiller, student)
    }
    data = demo_mm_inputs(batch_size=batch, image_shapes=(3, height, width),
                          num_items=[5] * batch, num_classes=80)
    inputs = distiller.data_preprocessor(copy.deepcopy(data),
                                         True)['inputs']
    rois = sampled_rois(distiller, data)

    @torch.no_grad()
    def teacher_forward():
        x = teacher.extract_feat(inputs)
        stage_cls_scores(teacher.roi_head, 0, x, rois)

    def done(fn):
        def step():
            fn()
            synchronize(device)
        return step

    steps = dict(zip(STEPS, (
        lambda: student.train_step(copy.deepcopy(data), wrappers[student]),
        teacher_forward,
        lambda: distiller.train_step(copy.deepcopy(data),
                                     wrappers[distiller]))))
    return {name: done(fn) for name, fn in steps.items()}, len(rois)


def step_ratio(times: Dict[str, List[float]]) -> float:
    """DHKD step / (student-only step + teacher forward) of the fastest
    runs, the ones least disturbed by other work on the machine."""
    best = {name: min(ts) for name, ts in times.items()}
    return best['DHKD step'] / (best['student-only step'] +
                                best['teacher forward'])


def measure_det_steps(student_depth: int, teacher_depth: int, height: int,
                      width: int, batch: int, device: str, iters: int,
                      warmup: int) -> dict:
    """The three steps timed, interleaved, ``iters`` times each after
    ``warmup`` untimed rounds: best and median ms of each, and the ratio of
    the best runs."""
    steps, n_rois = det_steps(student_depth, teacher_depth, height, width,
                              batch, device)
    times = interleaved_times(steps, iters, warmup)
    return dict(
        pair=f'R{teacher_depth} -> R{student_depth}', batch=batch,
        image=[width, height], rois=n_rois, device=device, iters=iters,
        best_ms={n: round(min(ts) * 1000, 1) for n, ts in times.items()},
        median_ms={n: round(statistics.median(ts) * 1000, 1)
                   for n, ts in times.items()},
        ratio=round(step_ratio(times), 3))
