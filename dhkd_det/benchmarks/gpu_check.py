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
  batch 2: seconds/iteration, peak GPU memory, the teacher's share of the
  step (its no-grad forward timed with CUDA events).
- ``det_test``: a test pass of the Faster R-CNN config through the runner's
  test loop with MMDetection's CocoMetric on a generated COCO set.
- ``summary``: the fastest classification variant against the 30-minute
  target, and which parts failed or were skipped.

Each part (and each classification variant) runs under its own time limit
and try/except: an error is recorded in the JSON and the next part runs.
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
from .det_check import DetCheck
from .env import env_part, ops_part
from .graph_equality import graph_equality
from .report import Report

#: minutes the 240-epoch CIFAR recipe should take at most
TARGET_MIN = 30

#: the sizes of the run on a GPU, and of ``smoke``
GPU = SimpleNamespace(
    budget=270, cls_images=50000, cls_batch=64, cls_warmup=30,
    cls_window=200, sync_warmup=10, sync_window=50, ceiling_window=200,
    det_image=(1333, 800), det_val=4, det_warmup=5, det_window=10)
SMOKE = SimpleNamespace(
    budget=200, cls_images=256, cls_batch=16, cls_warmup=2, cls_window=3,
    sync_warmup=1, sync_window=2, ceiling_window=3, det_image=(160, 120),
    det_val=2, det_warmup=1, det_window=2)


def summary(data: dict) -> dict:
    """The fastest classification variant against the target, and the
    parts (and variants) that failed or were skipped."""
    variants = [v for v in data.get('cls', {}).get('variants', [])
                if 'it_per_s' in v]
    out = dict(target_240e_min=TARGET_MIN)
    if variants:
        best = max(variants, key=lambda v: v['it_per_s'])
        out.update(cls_best=best['name'], cls_best_it_per_s=best['it_per_s'],
                   cls_best_projected_240e_min=best['projected_240e_min'],
                   meets_target=best['projected_240e_min'] <= TARGET_MIN)
    failed = [k for k, v in data.items() if isinstance(v, dict) and 'error'
              in v] + [v['name'] for v in data.get('cls', {}).get(
                  'variants', []) if 'error' in v]
    skipped = [k for k, v in data.items() if isinstance(v, dict) and
               'skipped' in v] + [v['name'] for v in data.get('cls', {}).get(
                   'variants', []) if 'skipped' in v]
    out.update(failed=failed, skipped=skipped)
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
            report.part('det_test', det.test, 90)
        if 'cls' in checks:
            cls_variants(report, checks['cls'], SMOKE_MORE_VARIANTS
                         if smoke else MORE_VARIANTS, 30)
    finally:
        report.data['summary'] = summary(report.data)
        report.write()
        shutil.rmtree(work, ignore_errors=True)
    return report.data
