"""The prepared GPU check of dhkd_det: one run, one JSON.

    python tools/benchmarks/gpu_check.py --out $OUT/gpu_check.json
    python tools/benchmarks/gpu_check.py --smoke --out /tmp/smoke.json

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
  each of data loader (the config's CPU workers / the GPU-resident training
  set), float32 / bfloat16 autocast, NCHW / channels_last, and gradient
  alignment on / off.
- ``cls_host_syncs``: host-device synchronisations per training iteration and
  where they come from (CUDA's sync debug mode; on CPU, tensor-to-host reads).
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
import argparse
import contextlib
import copy
import datetime
import gc
import json
import os
import os.path as osp
import platform
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from types import SimpleNamespace

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from torch.overrides import TorchFunctionMode  # noqa: E402

# registers our modules and, where mmcv has no compiled ops, serves them
import dhkd_det  # noqa: E402,F401

CLS_CONFIG = osp.join(REPO, 'configs/dhkd/cifar100_res32x4_res8x4.py')
DET_CONFIGS = dict(
    faster_rcnn=osp.join(REPO, 'configs/dhkd/coco_faster_rcnn_r101_r50.py'),
    retinanet=osp.join(REPO, 'configs/dhkd/coco_retinanet_r101_r50.py'))
RECIPE_ITERS = 782 * 240  # CIFAR-100: 50,000 / 64 per epoch, 240 epochs
TARGET_MIN = 30

GPU = SimpleNamespace(
    budget=270, cls_images=50000, cls_batch=64, cls_warmup=30,
    cls_window=200, sync_warmup=10, sync_window=50, ceiling_window=200,
    det_image=(1333, 800), det_val=4, det_warmup=5, det_window=10)
SMOKE = SimpleNamespace(
    budget=200, cls_images=256, cls_batch=16, cls_warmup=2, cls_window=3,
    sync_warmup=1, sync_window=2, ceiling_window=3, det_image=(160, 120),
    det_val=2, det_warmup=1, det_window=2)
# parts with less than this left are skipped rather than started
MIN_PART_S = 8

# First the variants that decide the recipe's wall time (all with gradient
# alignment, as the DHKD config), then the rest, after detection, so that a
# slow machine still measures every part once.
CORE_VARIANTS = [
    dict(loader=loader, precision=precision, channels_last=False, ga=True)
    for loader in ('gpu_resident', 'cpu_workers')
    for precision in ('fp32', 'bf16')]
MORE_VARIANTS = [
    dict(loader=loader, precision=precision, channels_last=cl, ga=ga)
    for ga in (False, True) for cl in (False, True)
    for loader in ('gpu_resident', 'cpu_workers')
    for precision in ('fp32', 'bf16')
    if not (ga and not cl)]
# --smoke: each setting at least once (channels_last, both plain wrappers)
SMOKE_MORE_VARIANTS = [
    dict(loader='gpu_resident', precision='fp32', channels_last=True,
         ga=False),
    dict(loader='gpu_resident', precision='bf16', channels_last=False,
         ga=False)]


def variant_name(v: dict) -> str:
    return '-'.join([v['loader'], v['precision'],
                     'channels_last' if v['channels_last'] else 'nchw',
                     'ga' if v['ga'] else 'no_ga'])


# ----- running parts under a time limit --------------------------------------
class PartTimeout(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise PartTimeout in the main thread after ``seconds``: a hung part
    (a stuck data loader, say) must not take the rest of the run with it."""
    def expire(signum, frame):
        raise PartTimeout(f'stopped after its {seconds:.0f} s limit')

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Report:
    """The JSON, rewritten to ``path`` after every part."""

    def __init__(self, path: str, budget: float):
        self.path = path
        self.deadline = time.monotonic() + budget
        self.data = {}

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def write(self) -> None:
        if not self.path:
            return
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(self.data, f, indent=1)
        os.replace(tmp, self.path)

    def run(self, fn, cap: float) -> dict:
        """``fn()``'s dict, or the error it raised, with its wall time; not
        started when the run's time budget is (nearly) spent."""
        left = self.left()
        if left < MIN_PART_S:
            return dict(skipped=f'time budget spent ({left:.0f} s left)')
        if torch.cuda.is_available():
            # runners and models of earlier parts sit in reference cycles
            # (and a failed part's in its traceback): free their GPU memory
            gc.collect()
            torch.cuda.empty_cache()
        start = time.perf_counter()
        try:
            with time_limit(min(cap, left)):
                entry = fn()
        except Exception as e:  # any failure is data for the report
            entry = dict(error=f'{type(e).__name__}: {e}',
                         traceback=traceback.format_exc()[-3000:])
        entry['seconds'] = round(time.perf_counter() - start, 1)
        return entry

    def part(self, name: str, fn, cap: float) -> dict:
        self.data[name] = self.run(fn, cap)
        self.write()
        return self.data[name]


# ----- measuring through the runner ------------------------------------------
def synchronize(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


class PeakMemory(Hook):
    """Peak GPU memory of the first ``warmup`` iterations (first calls,
    autotuning) apart from the steady-state peak after them."""
    priority = 'LOWEST'

    def __init__(self, warmup: int, device: str):
        self.warmup_iters, self.device, self.warmup = warmup, device, None

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if self.device == 'cuda' and runner.iter + 1 == self.warmup_iters:
            self.warmup = round(torch.cuda.max_memory_allocated() / 2**30, 2)
            torch.cuda.reset_peak_memory_stats()


class WindowTimer(Hook):
    """Times iterations ``start`` .. ``stop - 1`` (0-based) whole: from the
    end of iteration ``start - 1`` (its hooks included) to the end of
    iteration ``stop - 1``, with the device synchronised at both ends only.
    With ``count_syncs`` it counts the host syncs in the window instead."""
    priority = 'LOWEST'

    def __init__(self, start: int, stop: int, device: str,
                 count_syncs: bool = False):
        assert 1 <= start < stop
        self.start, self.stop, self.device = start, stop, device
        self.count_syncs = count_syncs
        self.is_open = False
        self.seconds = None
        self.syncs = None
        self._counting = contextlib.ExitStack()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        done = runner.iter + 1
        if done == self.start:
            synchronize(self.device)
            if self.count_syncs:
                self.syncs = self._counting.enter_context(
                    count_host_syncs(self.device))
            self.is_open = True
            self._t0 = time.perf_counter()
        elif done == self.stop:
            self.close()

    def close(self) -> None:
        if not self.is_open:
            return
        self._counting.close()
        synchronize(self.device)
        self.seconds = time.perf_counter() - self._t0
        self.is_open = False

    @property
    def iters(self) -> int:
        return self.stop - self.start


@contextlib.contextmanager
def count_host_syncs(device: str):
    """A Counter of the host syncs made inside the block, keyed by the first
    caller outside torch (see ``caller``).

    CUDA: every synchronising CUDA call, as reported by
    ``torch.cuda.set_sync_debug_mode('warn')``.  CPU (``--smoke``): calls
    that read a tensor's value into Python (``item``, ``float``, ``bool``,
    ``int``, ``tolist``), the ones that are host syncs on a GPU; boolean-mask
    indexing and the like are syncs too on a GPU but not visible here.
    """
    counts = Counter()
    if device == 'cuda':
        with warnings.catch_warnings():
            warnings.simplefilter('always')
            show = warnings.showwarning

            def showwarning(message, category, filename, lineno, file=None,
                            line=None):
                if 'synchronizing CUDA operation' in str(message):
                    counts[caller()] += 1
                else:
                    show(message, category, filename, lineno, file, line)

            warnings.showwarning = showwarning
            torch.cuda.set_sync_debug_mode('warn')
            try:
                yield counts
            finally:
                torch.cuda.set_sync_debug_mode('default')
    else:
        with HostReads(counts):
            yield counts


class HostReads(TorchFunctionMode):
    NAMES = {'item', '__bool__', '__float__', '__int__', 'tolist'}

    def __init__(self, counts: Counter):
        super().__init__()
        self.counts = counts

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, '__name__', None) in self.NAMES:
            self.counts[caller()] += 1
        return func(*args, **(kwargs or {}))


def caller() -> str:
    """``module:line (function)`` of the innermost frame outside torch, the
    warnings module and this script (by module name, so that packages
    installed anywhere, a ``--target`` folder too, group alike)."""
    own = osp.abspath(__file__)
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get('__name__', '?')
        if not (module == 'torch' or module.startswith('torch.') or
                module == 'warnings' or
                osp.abspath(frame.f_code.co_filename) == own):
            return f'{module}:{frame.f_lineno} ({frame.f_code.co_name})'
        frame = frame.f_back
    return 'torch (no Python caller)'


def summarise_syncs(counts: Counter, iters: int) -> dict:
    by_package = Counter()
    for where, n in counts.items():
        by_package[where.split('.', 1)[0].split(':')[0]] += n
    return dict(
        per_iter=round(sum(counts.values()) / iters, 2),
        per_iter_by_package={k: round(n / iters, 2)
                             for k, n in by_package.most_common()},
        per_iter_by_caller={k: round(n / iters, 2)
                            for k, n in counts.most_common(12)})


def stop_loader_workers(runner) -> None:
    """Stop the worker processes of the runner's train / test data loaders
    now.  Left to the garbage collector (runners sit in reference cycles),
    a loader's queues can be finalised before it, its workers never hear
    the stop and each is only reaped after a 5 s join timeout."""
    for loop in (runner._train_loop, runner._test_loop):
        infinite = getattr(loop, 'dataloader_iterator', None)  # iter loop
        loader = getattr(loop, 'dataloader', None)
        for iterator in (getattr(infinite, '_iterator', None),
                         getattr(loader, '_iterator', None)):
            if hasattr(iterator, '_shutdown_workers'):
                iterator._shutdown_workers()


def build_runner(config: str, options: dict, work_dir: str, edit=None):
    """MMEngine's runner from one of our configs, as tools/train.py builds
    it (checked overrides; ``train_cfg.max_iters`` turns the epoch loop into
    an iteration loop), with ``edit(cfg)`` applied last."""
    from dhkd_det.apis import build_runner as build
    from dhkd_det.apis import load_config
    cfg = load_config(config, options, work_dir=work_dir)
    # no curve plots at the end of each of these short runs (MMEngine takes
    # None only for its own default hooks)
    cfg.default_hooks.pop('curves', None)
    if edit is not None:
        edit(cfg)
    return build(cfg)


# ----- data ------------------------------------------------------------------
def write_cifar_data(root: str, num_images: int) -> str:
    from dhkd_det.datasets import write_cifar
    rng = np.random.default_rng(0)

    def split(n):
        return (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
                rng.integers(0, 100, n))

    write_cifar(root, split(num_images), split(16),
                [f'class_{i}' for i in range(100)])
    return root


def write_coco_data(root: str, name: str, num_images: int, size) -> str:
    """``root/images/<name>_<i>.jpg`` with 1-4 filled rectangles each and
    ``root/annotations/<name>.json`` with COCO's 80 categories (so that the
    configs' class list and label mapping apply unchanged)."""
    import cv2
    from mmdet.datasets import CocoDataset
    classes = CocoDataset.METAINFO['classes']
    rng = np.random.default_rng(len(name))
    w, h = size
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    images, anns = [], []
    for i in range(num_images):
        img = rng.integers(60, 200, (h, w, 3), dtype=np.uint8)
        for _ in range(int(rng.integers(1, 5))):
            bw, bh = int(rng.uniform(0.1, 0.5) * w), int(rng.uniform(
                0.1, 0.5) * h)
            x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
            cls = int(rng.integers(0, 10))
            img[y:y + bh, x:x + bw] = (25 * cls, 255 - 25 * cls, 128)
            anns.append(dict(id=len(anns) + 1, image_id=i + 1,
                             category_id=cls + 1, bbox=[x, y, bw, bh],
                             area=float(bw * bh), iscrowd=0))
        file_name = f'{name}_{i}.jpg'
        cv2.imwrite(osp.join(root, 'images', file_name), img)
        images.append(dict(id=i + 1, file_name=file_name, width=w, height=h))
    ann_file = osp.join(root, 'annotations', f'{name}.json')
    with open(ann_file, 'w') as f:
        json.dump(dict(images=images, annotations=anns,
                       categories=[dict(id=i + 1, name=n)
                                   for i, n in enumerate(classes)]), f)
    return ann_file


# ----- env and ops -----------------------------------------------------------
def ops_implementation() -> dict:
    """Which mmcv ops run: the served-ops layer's answer where it exists,
    and the module behind ``mmcv._ext`` in any case."""
    out = {}
    try:
        from dhkd_det.ops import ops_backend
        out['dhkd_det.ops.ops_backend'] = ops_backend()
    except ImportError as e:
        out['dhkd_det.ops.ops_backend'] = f'unavailable ({e})'
    try:
        import mmcv.ops  # noqa: F401
        ext = sys.modules['mmcv._ext']
        out['mmcv._ext'] = dict(
            name=ext.__name__, file=getattr(ext, '__file__', None),
            served=bool(getattr(ext, 'DHKD_SERVED', False)))
    except Exception as e:  # what fails here is the finding
        out['mmcv._ext'] = f'import mmcv.ops failed: {type(e).__name__}: {e}'
    return out


def env_part(device: str) -> dict:
    import mmcv
    import mmdet
    import mmengine
    import torchvision
    info = dict(
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds'),
        python=platform.python_version(), torch=torch.__version__,
        torchvision=torchvision.__version__, cuda=torch.version.cuda,
        cudnn=torch.backends.cudnn.version(), mmcv=mmcv.__version__,
        mmdet=mmdet.__version__, mmengine=mmengine.__version__,
        numpy=np.__version__, cpu_count=os.cpu_count(), device=device,
        ops=ops_implementation())
    if device == 'cuda':
        props = torch.cuda.get_device_properties(0)
        info.update(
            gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30,
                                                 1),
            compute_capability=f'{props.major}.{props.minor}',
            cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
            matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32)
    return info


def ops_part(device: str) -> dict:
    """Each op on every device at hand: output device, and max abs
    difference to the CPU result and to torchvision's reference."""
    import mmcv.ops as ops
    import torchvision.ops as tv
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(300, 2, generator=g) * 200
    boxes = torch.cat([xy, xy + 10 + torch.rand(300, 2, generator=g) * 60],
                      1)
    scores = torch.rand(300, generator=g)
    labels = torch.randint(0, 5, (300, ), generator=g)
    feats = torch.randn(2, 16, 40, 40, generator=g)
    rois = torch.cat([torch.randint(0, 2, (64, 1), generator=g).float(),
                      boxes[:64] / 2], 1)
    logits = torch.randn(128, 10, generator=g)
    targets = torch.randint(0, 11, (128, ), generator=g)  # 10 = background

    def run(on):
        out = {}
        keep = ops.nms(boxes.to(on), scores.to(on), 0.5)[1]
        out['nms'] = keep
        out['batched_nms'] = ops.batched_nms(
            boxes.to(on), scores.to(on), labels.to(on),
            dict(type='nms', iou_threshold=0.5))[1]
        f = feats.to(on, copy=True).requires_grad_()
        pooled = ops.RoIAlign((7, 7), 0.5, sampling_ratio=2,
                              aligned=True)(f, rois.to(on))
        pooled.pow(2).sum().backward()
        out['roi_align'], out['roi_align_grad'] = pooled, f.grad
        x = logits.to(on, copy=True).requires_grad_()
        loss = ops.sigmoid_focal_loss(x, targets.to(on), 2.0, 0.25, None,
                                      'sum')
        loss.backward()
        out['sigmoid_focal_loss'], out['sigmoid_focal_loss_grad'] = loss, \
            x.grad
        return out

    def reference():
        f = feats.clone().requires_grad_()
        pooled = tv.roi_align(f, rois, (7, 7), 0.5, 2, aligned=True)
        pooled.pow(2).sum().backward()
        x = logits.clone().requires_grad_()
        onehot = torch.nn.functional.one_hot(targets, 11)[:, :10].float()
        loss = tv.sigmoid_focal_loss(x, onehot, 0.25, 2.0, 'sum')
        loss.backward()
        return dict(
            nms=tv.nms(boxes, scores, 0.5),
            batched_nms=tv.batched_nms(boxes, scores, labels, 0.5),
            roi_align=pooled, roi_align_grad=f.grad, sigmoid_focal_loss=loss,
            sigmoid_focal_loss_grad=x.grad)

    def diff(a, b):
        a, b = a.detach().cpu(), b.detach().cpu()
        if a.dtype == torch.long:  # kept boxes: how many are not in both
            return len(set(a.tolist()) ^ set(b.tolist()))
        return float((a.double() - b.double()).abs().max())

    cpu, ref = run('cpu'), reference()
    results = {}
    for on in ['cpu'] + (['cuda'] if device == 'cuda' else []):
        outs = cpu if on == 'cpu' else run(on)
        results[on] = {
            name: dict(device=str(t.device),
                       max_abs_diff_vs_cpu=diff(t, cpu[name]),
                       max_abs_diff_vs_torchvision=diff(t, ref[name]))
            for name, t in outs.items()}
    return dict(implementation=ops_implementation(), results=results)


# ----- classification --------------------------------------------------------
class ClsCheck:
    """The classification measurements, sharing one data set and teacher."""

    def __init__(self, sizes, device: str, work: str, smoke: bool):
        self.sizes, self.device, self.work = sizes, device, work
        self.data_root = write_cifar_data(osp.join(work, 'cifar'),
                                          sizes.cls_images)
        from mmengine.registry import MODELS
        self.student, self.teacher = (('resnet8', 'resnet8') if smoke else
                                      ('resnet8x4', 'resnet32x4'))
        torch.manual_seed(0)
        teacher = MODELS.build(dict(type=self.teacher, num_classes=100))
        self.teacher_ckpt = osp.join(work, 'cls_teacher.pth')
        torch.save({'model': teacher.state_dict()}, self.teacher_ckpt)
        self.runs = 0

    def options(self, v: dict, iters: int) -> dict:
        self.runs += 1
        opts = {
            'model.student.network.type': self.student,
            'model.teacher.type': self.teacher,
            'model.teacher_ckpt': self.teacher_ckpt,
            'train_dataloader.dataset.data_root': self.data_root,
            'train_dataloader.dataset.check_md5': False,
            'train_dataloader.batch_size': self.sizes.cls_batch,
            'train_cfg.max_iters': iters,
            'val_dataloader': None, 'val_cfg': None, 'val_evaluator': None,
            'test_dataloader': None, 'test_cfg': None,
            'test_evaluator': None,
            'default_hooks.checkpoint': None,
            'randomness.seed': 0, 'log_level': 'WARNING',
            'experiment_name': f'cls{self.runs}_{variant_name(v)}',
        }
        if v['loader'] == 'gpu_resident':
            opts.update({
                'train_dataloader.num_workers': 0,
                'train_dataloader.persistent_workers': False,
                'train_dataloader.collate_fn.type': 'pass_through_collate',
                'train_dataloader.dataset.device': self.device})
        bf16 = v['precision'] == 'bf16'
        if v['ga']:
            # one dict: the key check would take `optim_wrapper.dtype` for a
            # typo of `optim_wrapper.type`
            opts['optim_wrapper'] = dict(type='GradAlignOptimWrapper')
            if bf16:
                opts['optim_wrapper']['dtype'] = 'bfloat16'
        else:
            opts['optim_wrapper.type'] = ('BF16OptimWrapper' if bf16 else
                                          'OptimWrapper')
        return opts

    def train(self, v: dict, warmup: int, window: int,
              count_syncs: bool = False) -> WindowTimer:
        runner = build_runner(CLS_CONFIG, self.options(v, warmup + window),
                              osp.join(self.work, f'cls{self.runs}'))
        if v['channels_last']:
            runner.model.to(memory_format=torch.channels_last)
        timer = WindowTimer(warmup, warmup + window, self.device,
                            count_syncs)
        runner.register_hook(timer)
        try:
            runner.train()
        finally:
            timer.close()
            stop_loader_workers(runner)
        return timer

    def variant(self, v: dict) -> dict:
        timer = self.train(v, self.sizes.cls_warmup, self.sizes.cls_window)
        rate = timer.iters / timer.seconds
        return dict(v, name=variant_name(v),
                    batch=self.sizes.cls_batch, iters_timed=timer.iters,
                    it_per_s=round(rate, 2),
                    ms_per_iter=round(1000 / rate, 3),
                    projected_240e_min=round(RECIPE_ITERS / rate / 60, 1))

    def host_syncs(self) -> dict:
        out = dict(method=(
            "torch.cuda.set_sync_debug_mode('warn'), every warning counted "
            'and attributed to its first caller outside torch'
            if self.device == 'cuda' else
            'CPU stand-in: tensor values read into Python (item, float, '
            'bool, int, tolist) counted with a TorchFunctionMode'))
        for loader in ('gpu_resident', 'cpu_workers'):
            v = dict(loader=loader, precision='fp32', channels_last=False,
                     ga=True)
            timer = self.train(v, self.sizes.sync_warmup,
                               self.sizes.sync_window, count_syncs=True)
            out[variant_name(v)] = summarise_syncs(timer.syncs, timer.iters)
        out['note'] = (
            "MMEngine's RuntimeInfoHook reads every logged value of the "
            "step's outputs to the host (MessageHub.update_scalar -> "
            'item()) each iteration; LossGuardHook reads its buffer every '
            '50 iterations')
        return out

    def ceiling(self) -> dict:
        """The DHKD step (no GA) in a bare loop on GPU-resident batches:
        no hooks, no logging, no host sync."""
        import torch.nn.functional as F
        from mmengine.registry import MODELS

        from dhkd_det.datasets import CIFAR100
        from dhkd_det.apis import load_config
        from dhkd_det.losses import binary_kl_norm
        cfg = load_config(CLS_CONFIG, {
            'model.student.network.type': self.student,
            'model.teacher.type': self.teacher})
        out = {}
        for precision in ('fp32', 'bf16'):
            torch.manual_seed(0)
            model = MODELS.build(cfg.model).to(self.device).train()
            model.teacher_loaded = True  # random teacher, as in the runs
            data = CIFAR100(self.data_root, check_md5=False,
                            device=self.device)
            sgd = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9,
                                  weight_decay=5e-4)
            batch = self.sizes.cls_batch
            order = torch.randperm(len(data)).tolist()

            def step(i):
                start = (i * batch) % (len(data) - batch)
                raw = data.__getitems__(order[start:start + batch])
                with torch.autocast(self.device, torch.bfloat16,
                                    enabled=precision == 'bf16'):
                    x = model.data_preprocessor(raw, True)
                    with torch.no_grad():
                        t = model.teacher(x['inputs'])
                    main, aux = model.student(x['inputs'])
                    loss = F.cross_entropy(main, x['data_samples']) + \
                        binary_kl_norm(aux, t, 2.0)
                loss.backward()
                sgd.step()
                sgd.zero_grad(set_to_none=True)

            for i in range(self.sizes.cls_warmup):
                step(i)
            synchronize(self.device)
            t0 = time.perf_counter()
            for i in range(self.sizes.ceiling_window):
                step(i)
            synchronize(self.device)
            rate = self.sizes.ceiling_window / (time.perf_counter() - t0)
            out[precision] = dict(
                it_per_s=round(rate, 2), ms_per_iter=round(1000 / rate, 3),
                projected_240e_min=round(RECIPE_ITERS / rate / 60, 1))
        return out


def cls_variants(report: Report, check: ClsCheck, variants, cap: float):
    entries = report.data.setdefault('cls', dict(
        config=osp.relpath(CLS_CONFIG, REPO),
        pair=f'{check.teacher} -> {check.student}',
        train_images=check.sizes.cls_images,
        recipe_iters=RECIPE_ITERS, variants=[]))['variants']
    for v in variants:
        entry = report.run(lambda: check.variant(v), cap)
        entry.setdefault('name', variant_name(v))
        entries.append(entry)
        report.write()


# ----- detection -------------------------------------------------------------
def shrink_detector(model: dict, two_stage: bool, plain: bool) -> dict:
    """``--smoke``: ResNet-18 and a 64-wide FPN instead of R50 / R101 (and
    the plain head for the teacher)."""
    model = copy.deepcopy(model)
    model.backbone.update(depth=18, init_cfg=None)
    model.neck.update(in_channels=[64, 128, 256, 512], out_channels=64)
    if two_stage:
        model.rpn_head.update(in_channels=64, feat_channels=64)
        model.roi_head.bbox_roi_extractor.out_channels = 64
        model.roi_head.bbox_head.update(in_channels=64, fc_out_channels=128)
        model.train_cfg.rpn_proposal.update(nms_pre=300, max_per_img=100)
        model.train_cfg.rcnn.sampler.num = 64
        model.test_cfg.rpn.update(nms_pre=300, max_per_img=100)
        if plain:
            model.roi_head.type = 'StandardRoIHead'
            model.roi_head.bbox_head.type = 'Shared2FCBBoxHead'
            model.roi_head.bbox_head.pop('aux_head', None)
    else:
        model.bbox_head.update(in_channels=64, feat_channels=64,
                               stacked_convs=2)
        if plain:
            model.bbox_head.type = 'RetinaHead'
    return model


class DetCheck:

    def __init__(self, sizes, device: str, work: str, smoke: bool):
        self.sizes, self.device, self.work, self.smoke = (sizes, device,
                                                          work, smoke)
        self.root = osp.join(work, 'coco')
        self.val_ann = write_coco_data(self.root, 'val', sizes.det_val,
                                       sizes.det_image)
        # one epoch covers the run: MMEngine sleeps 2 s when an iteration
        # loop restarts its data loader
        write_coco_data(self.root, 'train',
                        2 * (sizes.det_warmup + sizes.det_window) + 2,
                        sizes.det_image)
        self.runs = 0

    def runner(self, kind: str, iters: int):
        self.runs += 1
        teacher_ckpt = osp.join(self.work, f'det_teacher{self.runs}.pth')
        root = self.root + '/'
        opts = {
            'model.teacher_ckpt': teacher_ckpt,
            'model.student.backbone.init_cfg': None,  # no download
            'train_dataloader.batch_size': 2,
            'train_dataloader.dataset.data_root': root,
            'train_dataloader.dataset.ann_file': 'annotations/train.json',
            'train_dataloader.dataset.data_prefix.img': 'images/',
            'test_dataloader.dataset.data_root': root,
            'test_dataloader.dataset.ann_file': 'annotations/val.json',
            'test_dataloader.dataset.data_prefix.img': 'images/',
            'test_evaluator.ann_file': self.val_ann,
            'train_cfg.max_iters': iters,
            'val_dataloader': None, 'val_cfg': None, 'val_evaluator': None,
            'default_hooks.checkpoint': None,
            'randomness.seed': 0, 'log_level': 'WARNING',
            'experiment_name': f'det{self.runs}_{kind}',
        }
        two_stage = kind == 'faster_rcnn'
        if two_stage:
            # random weights score every class near 1/81: keep all boxes so
            # that the metric has detections to score
            opts['model.student.test_cfg.rcnn.score_thr'] = 0.0

        def edit(cfg):
            if not self.smoke:
                return
            scale = tuple(round(s * 1.2) for s in self.sizes.det_image)
            for loader in (cfg.train_dataloader, cfg.test_dataloader):
                loader.update(num_workers=0, persistent_workers=False)
                for step in loader.dataset.pipeline:
                    if step.type == 'Resize':
                        step.scale = scale
            cfg.model.teacher = shrink_detector(cfg.model.student, two_stage,
                                                plain=True)
            cfg.model.student = shrink_detector(cfg.model.student, two_stage,
                                                plain=False)

        runner = build_runner(DET_CONFIGS[kind], opts,
                              osp.join(self.work, f'det{self.runs}'), edit)
        # the teacher's own random weights, loaded back as its checkpoint
        torch.save({'state_dict': runner.model.teacher.state_dict()},
                   teacher_ckpt)
        return runner

    def train(self, kind: str) -> dict:
        warmup, window = self.sizes.det_warmup, self.sizes.det_window
        runner = self.runner(kind, warmup + window)
        timer = WindowTimer(warmup, warmup + window, self.device)
        runner.register_hook(timer)
        distiller = runner.model
        teacher_logits, spans = distiller.teacher_logits, []

        def timed_teacher(*args, **kwargs):
            """The teacher's no-grad forward, timed on the GPU's clock with
            CUDA events (no sync); on CPU with the wall clock."""
            if not timer.is_open:
                return teacher_logits(*args, **kwargs)
            if self.device == 'cuda':
                begin, end = (torch.cuda.Event(enable_timing=True)
                              for _ in range(2))
                begin.record()
                out = teacher_logits(*args, **kwargs)
                end.record()
                spans.append((begin, end))
            else:
                t0 = time.perf_counter()
                out = teacher_logits(*args, **kwargs)
                spans.append(time.perf_counter() - t0)
            return out

        distiller.teacher_logits = timed_teacher
        peaks = PeakMemory(warmup, self.device)
        runner.register_hook(peaks)
        # MMEngine only ever switches cudnn.benchmark on: a classification
        # run earlier in this process would leave it on for MMDetection's
        # configs, whose default is off, and its autotuning workspaces would
        # count in the peak
        torch.backends.cudnn.benchmark = bool(
            runner.cfg.get('env_cfg', {}).get('cudnn_benchmark', False))
        if self.device == 'cuda':
            torch.cuda.reset_peak_memory_stats()
        try:
            runner.train()
        finally:
            timer.close()
            stop_loader_workers(runner)
        if self.device == 'cuda':
            teacher_s = sum(b.elapsed_time(e) for b, e in spans) / 1000
            peak = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        else:
            teacher_s, peak = sum(spans), None
        s_per_iter = timer.seconds / timer.iters
        return dict(
            config=osp.relpath(DET_CONFIGS[kind], REPO),
            pair='R18 -> R18 (smoke)' if self.smoke else 'R101 -> R50',
            image=list(self.sizes.det_image), batch=2,
            iters_timed=timer.iters, s_per_iter=round(s_per_iter, 4),
            teacher_s_per_iter=round(teacher_s / timer.iters, 4),
            teacher_share=round(teacher_s / timer.seconds, 3),
            teacher_timing=('CUDA events around DetDistiller.teacher_logits'
                            if self.device == 'cuda' else 'wall clock'),
            cudnn_benchmark=torch.backends.cudnn.benchmark,
            peak_gpu_mem_gib=peak,  # after the warm-up iterations
            peak_gpu_mem_gib_warmup=peaks.warmup)

    def test(self) -> dict:
        runner = self.runner('faster_rcnn', 1)
        t0 = time.perf_counter()
        try:
            metrics = runner.test()
        finally:
            stop_loader_workers(runner)
        seconds = time.perf_counter() - t0
        return dict(images=self.sizes.det_val, test_loop_s=round(seconds, 2),
                    metrics={k: float(v) for k, v in metrics.items()})


# ----- the run ---------------------------------------------------------------
def summary(data: dict) -> dict:
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', help='write the JSON here too (rewritten '
                        'after every part)')
    parser.add_argument('--smoke', action='store_true',
                        help='every part on the CPU with tiny sizes')
    parser.add_argument('--budget', type=float,
                        help='seconds for all parts; a part is skipped when '
                        'the rest is too short (default 270, smoke 200)')
    parser.add_argument('--only', choices=['cls', 'det'],
                        help='run the classification or detection parts '
                        'alone (after env and ops)')
    args = parser.parse_args()
    if not args.smoke and not torch.cuda.is_available():
        sys.exit('gpu_check: no CUDA device here. This check measures the '
                 'GPU; run it on a machine with one, or with --smoke for the '
                 'CPU self-test of the script.')
    sizes = SMOKE if args.smoke else GPU
    device = 'cpu' if args.smoke else 'cuda'
    if args.smoke:
        # one thread: on a shared 2-core machine more threads only wait
        torch.set_num_threads(1)
    # Each runner formats its config with yapf twice when built (to log it
    # and to dump it to its work_dir): about a second per runner, for two
    # dozen runners whose config copies nobody reads.  Plain JSON instead.
    Config.pretty_text = property(
        lambda cfg: json.dumps(cfg.to_dict(), indent=1, default=str))
    # `timeout` stops a run with SIGTERM: leave through `finally`, so that
    # the summary is still written and the JSON printed
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(
        'gpu_check: stopped by SIGTERM'))
    # stdout carries the JSON alone; logs and warnings go to stderr
    stdout, sys.stdout = sys.stdout, sys.stderr
    report = Report(args.out, args.budget or sizes.budget)
    report.data['check'] = dict(
        mode='smoke (CPU, tiny sizes)' if args.smoke else 'gpu',
        sizes=vars(sizes))
    work = tempfile.mkdtemp(prefix='dhkd_gpu_check_')
    try:
        report.part('env', lambda: env_part(device), 60)
        report.part('ops', lambda: ops_part(device), 60)
        checks = {}

        def setup(name, cls):
            checks[name] = cls(sizes, device, work, args.smoke)
            return dict(ready=True)

        if args.only != 'det':
            report.part('cls_setup', lambda: setup('cls', ClsCheck), 60)
        if 'cls' in checks:
            cls = checks['cls']
            cls_variants(report, cls, CORE_VARIANTS, 45)
            report.part('cls_host_syncs', cls.host_syncs, 60)
            report.part('cls_ceiling', cls.ceiling, 45)
        if args.only != 'cls':
            report.part('det_setup', lambda: setup('det', DetCheck), 60)
        if 'det' in checks:
            det = checks['det']
            report.part('det_faster_rcnn', lambda: det.train('faster_rcnn'),
                        120)
            report.part('det_retinanet', lambda: det.train('retinanet'), 120)
            report.part('det_test', det.test, 90)
        if 'cls' in checks:
            cls_variants(report, checks['cls'], SMOKE_MORE_VARIANTS
                         if args.smoke else MORE_VARIANTS, 30)
    finally:
        report.data['summary'] = summary(report.data)
        report.write()
        shutil.rmtree(work, ignore_errors=True)
        sys.stdout = stdout
        # one line: it fits the tail of the output a remote run hands back
        print(json.dumps(report.data, separators=(',', ':')))


if __name__ == '__main__':
    main()
