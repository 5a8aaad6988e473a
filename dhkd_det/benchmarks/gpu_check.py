"""The prepared GPU check of dhkd_det: one run, one JSON
(tools/benchmarks/gpu_check.py is its command line).

Everything runs through the real configs, data sets, data preprocessors and
MMEngine's runner on generated data (random weights, nothing downloaded):

- ``env``: GPU, torch / torchvision / CUDA / cuDNN, mmcv / mmdet / mmengine
  versions, which implementation of mmcv's ops is active, date.
- ``ops``: mmcv.ops nms, batched_nms, RoIAlign (forward + backward) and
  sigmoid_focal_loss (forward + backward) on each device, against the CPU
  result and torchvision's.
- ``cls``: DHKD resnet32x4 -> resnet8x4 (configs/dhkd/cifar100_res32x4_res8x4
  .py), batch 64, iterations/s over a window after warm-up and the projected
  wall time of the 240-epoch recipe (782 x 240 iterations, nothing else), for
  each of step (eager / captured as one CUDA graph), data loader (the
  config's CPU workers / the GPU-resident training set), float32 / bfloat16
  autocast, NCHW / channels_last, and gradient alignment on / off.
- ``cls_graph_equality``: the captured step (``model.cuda_graph``) against
  the eager one over a few steps (plain, GA, bf16): largest differences of
  the losses and of the weights.
- ``cls_host_syncs``: host-device synchronisations per training iteration and
  where they come from (CUDA's sync debug mode; on CPU, tensor-to-host reads),
  for the eager and the captured step.
- ``cls_ceiling``: the same model in a bare PyTorch loop with no host sync,
  on GPU-resident batches: what the runner's per-step work costs.
- ``det_faster_rcnn`` / ``det_retinanet``: DHKD R101 -> R50 at 1333x800,
  batch 2, with cudnn.benchmark as the config sets it
  (env_cfg.cudnn_benchmark): seconds/iteration, the teacher's share of the
  step (its no-grad forward timed with CUDA events), and the peak GPU memory
  of the warm-up iterations (first calls, cuDNN autotuning) apart from the
  steady peak after them (the statistics reset in between); on CPU the
  peaks say unavailable.
- ``det_step_ratio``: the Faster R-CNN DHKD step over (student-only step +
  the teacher's no-grad forward on the student's RoIs), R101 -> R50 at
  1333x800, batch 2, on the device (det_step.py, the same measurement as
  tools/benchmarks/det_step.py on CPU).
- ``det_test``: a test pass of the Faster R-CNN config through the runner's
  test loop with MMDetection's CocoMetric on a generated COCO set.
- ``imagenet_input``: images/s of ImageNet training input, our JPEGs decoded
  and augmented in batches on the device against torchvision's per-sample
  PIL loader with 16 workers (target >= 3x), and of the R34 -> R18 DHKD step
  it must keep fed (imagenet_input.py).
- ``cls_packing``: 1, 2, 4 and 8 real ``tools/train.py`` runs of the CIFAR
  DHKD config (GA, float32, GPU-resident data, the step captured as a CUDA
  graph, one seed each) side by side on
  the GPU, their timed windows started together: each process's it/s, the
  sum, and the 240-epoch wall time of one run and of the batch of N
  (cls_packing.py): how many runs to pack on one GPU.
- ``summary``: the fastest classification variant; issue 17's targets
  (240 epochs with GA <= 12 min, without GA <= 8 min, GA / plain <= 1.3,
  the detection step ratio <= 1.10, ImageNet input >= 3x), each met / not
  met / not measured; the
  packing's aggregate rates; which parts failed or were skipped.

Each part (and each classification variant and packing count) runs under
its own time limit and try/except: an error is recorded in the JSON and the
next part runs.
The JSON is rewritten after every part, so a run cut short leaves what it
measured.  ``--smoke`` runs every part on the CPU with tiny models and data
(the test suite runs it, so that the script cannot rot).
"""
import shutil
import tempfile
from types import SimpleNamespace
from typing import Optional

import torch

from .cls_check import (CORE_VARIANTS, MORE_VARIANTS, SMOKE_MORE_VARIANTS,
                        ClsCheck, cls_variants)
from .cls_packing import cls_packing
from .det_check import DetCheck
from .env import env_part, ops_part
from .graph_equality import graph_equality
from .imagenet_input import FULL as IMAGENET_FULL
from .imagenet_input import SMOKE as IMAGENET_SMOKE
from .imagenet_input import imagenet_input
from .report import Report

#: issue 17's targets: (what, the summary's figure, at most)
TARGETS = dict(
    cls_ga_240e_min=('240-epoch projection of the fastest GA variant, '
                     'minutes', '<=', 12),
    cls_plain_240e_min=('240-epoch projection of the fastest variant '
                        'without GA, minutes', '<=', 8),
    cls_ga_over_plain=('ms/iteration of the fastest GA variant over the '
                       'fastest one without GA', '<=', 1.3),
    det_step_ratio=('Faster R-CNN DHKD step / (student step + teacher '
                    'forward), best runs', '<=', 1.10),
    imagenet_input_ratio=('ImageNet training input, images/s of ours over '
                          "torchvision's per-sample loader", '>=', 3.0))
#: how a measured value meets its target
MEETS = {'<=': lambda value, limit: value <= limit,
         '>=': lambda value, limit: value >= limit}

#: the sizes of the run on a GPU, and of ``smoke``
GPU = SimpleNamespace(
    budget=420, cls_images=50000, cls_batch=64, cls_warmup=30,
    cls_window=200, sync_warmup=10, sync_window=50, ceiling_window=200,
    packing_counts=(1, 2, 4, 8), packing_warmup=30, packing_window=150,
    det_image=(1333, 800), det_val=4, det_warmup=5, det_window=10,
    ratio_warmup=3, ratio_iters=10, imagenet_workers=16)
SMOKE = SimpleNamespace(
    budget=480, cls_images=256, cls_batch=16, cls_warmup=2, cls_window=3,
    sync_warmup=1, sync_window=2, ceiling_window=3, packing_counts=(1, 2),
    packing_warmup=2, packing_window=3, det_image=(160, 120), det_val=2,
    det_warmup=1, det_window=2, ratio_warmup=0, ratio_iters=1,
    imagenet_workers=1)


def entries(data: dict):
    """(name, entry) of each part and of each entry of the parts made of
    several (classification variants, packing counts)."""
    for name, part in data.items():
        if isinstance(part, dict):
            yield name, part
    for v in data.get('cls', {}).get('variants', []):
        yield v['name'], v
    for c in data.get('cls_packing', {}).get('counts', []):
        yield f'cls_packing-{c["processes"]}', c


def summary(data: dict) -> dict:
    """The fastest classification variants, the packing's aggregate rates,
    each of TARGETS as met / not met / not measured, and the parts (and
    entries) that failed or were skipped."""
    variants = [v for v in data.get('cls', {}).get('variants', [])
                if 'it_per_s' in v]
    out = {}
    measured = {}
    if variants:
        best = max(variants, key=lambda v: v['it_per_s'])
        out.update(cls_best=best['name'], cls_best_it_per_s=best['it_per_s'],
                   cls_best_projected_240e_min=best['projected_240e_min'])
    fastest = {ga: max((v for v in variants if v['ga'] == ga),
                       key=lambda v: v['it_per_s'], default=None)
               for ga in (True, False)}
    if fastest[True]:
        measured['cls_ga_240e_min'] = fastest[True]['projected_240e_min']
    if fastest[False]:
        measured['cls_plain_240e_min'] = fastest[False]['projected_240e_min']
    if fastest[True] and fastest[False]:
        measured['cls_ga_over_plain'] = round(
            fastest[True]['ms_per_iter'] / fastest[False]['ms_per_iter'], 3)
    if 'ratio' in data.get('det_step_ratio', {}):
        measured['det_step_ratio'] = data['det_step_ratio']['ratio']
    if 'ratio' in data.get('imagenet_input', {}):
        measured['imagenet_input_ratio'] = data['imagenet_input']['ratio']
    out['targets'] = {
        key: dict(what=what, target=f'{op} {limit}',
                  measured=measured.get(key),
                  status=('not measured' if key not in measured else
                          'met' if MEETS[op](measured[key], limit)
                          else 'not met'))
        for key, (what, op, limit) in TARGETS.items()}
    # the captured step against the eager one: the largest loss difference
    out['cls_graph_max_log_diff'] = {
        kind: e['max_log_diff']
        for kind, e in data.get('cls_graph_equality', {}).items()
        if isinstance(e, dict) and 'max_log_diff' in e}
    out['cls_packing_aggregate_it_per_s'] = {
        str(c['processes']): c['aggregate_it_per_s']
        for c in data.get('cls_packing', {}).get('counts', [])
        if 'aggregate_it_per_s' in c}
    out.update(failed=[name for name, e in entries(data) if 'error' in e],
               skipped=[name for name, e in entries(data)
                        if 'skipped' in e])
    return out


def run_gpu_check(report: Report, smoke: bool = False,
                  only: Optional[str] = None) -> dict:
    """Runs every part into ``report`` (on the GPU, or with ``smoke`` on
    the CPU with tiny sizes; ``only``: 'cls' or 'det' alone after env and
    ops) and returns its data; the summary is written last, however the
    run ends."""
    sizes = SMOKE if smoke else GPU
    device = 'cpu' if smoke else 'cuda'
    if smoke:
        # one thread: on a shared 2-core machine more threads only wait
        torch.set_num_threads(1)
    report.data['check'] = dict(
        mode='smoke (CPU, tiny sizes)' if smoke else 'gpu',
        sizes=vars(sizes))
    work = tempfile.mkdtemp(prefix='dhkd_gpu_check_')
    try:
        report.part('env', lambda: env_part(device), 60)
        report.part('ops', lambda: ops_part(device), 60)
        checks = {}

        def setup(name, cls):
            checks[name] = cls(sizes, device, work, smoke)
            return dict(ready=True)

        if only != 'det':
            report.part('cls_setup', lambda: setup('cls', ClsCheck), 60)
        if 'cls' in checks:
            cls = checks['cls']
            report.part('cls_graph_equality',
                        lambda: graph_equality(device), 60)
            cls_variants(report, cls, CORE_VARIANTS, 45)
            report.part('cls_host_syncs', cls.host_syncs, 60)
            report.part('cls_ceiling', cls.ceiling, 45)
        if only != 'cls':
            report.part('det_setup', lambda: setup('det', DetCheck), 60)
        if 'det' in checks:
            det = checks['det']
            report.part('det_faster_rcnn', lambda: det.train('faster_rcnn'),
                        120)
            report.part('det_retinanet', lambda: det.train('retinanet'), 120)
            report.part('det_step_ratio', det.step_ratio, 90)
            report.part('det_test', det.test, 90)
            report.part('imagenet_input', lambda: imagenet_input(
                work, device, IMAGENET_SMOKE if smoke else IMAGENET_FULL,
                sizes.imagenet_workers), 120)
        if 'cls' in checks:
            cls_packing(report, checks['cls'], sizes.packing_counts, 150)
            cls_variants(report, checks['cls'], SMOKE_MORE_VARIANTS
                         if smoke else MORE_VARIANTS, 30)
    finally:
        report.data['summary'] = summary(report.data)
        report.write()
        shutil.rmtree(work, ignore_errors=True)
    return report.data
