"""The detection part of the GPU check: DHKD R101 -> R50 Faster R-CNN and
RetinaNet (configs/dhkd/coco_*_r101_r50.py) trained through MMEngine's
runner on a generated COCO set, timed per iteration with the teacher's
share of the step and the peak GPU memory (warm-up and steady state apart,
cudnn.benchmark as the config sets it); the DHKD step against the student's
step and the teacher's forward (det_step.py); and a test pass with
MMDetection's CocoMetric."""
import os.path as osp
import time

import torch

from ..apis import build_runner, load_config
from ..testing import (coco_dataset, dotted, shrink_detector,
                       write_tiny_coco)
from ..utils.paths import CONFIG_ROOT
from .det_step import measure_det_steps
from .runs import benchmark_config, stop_loader_workers
from .timers import PeakMemory, WindowTimer

#: the checkout holding the configs the check measures
DET_CONFIGS = dict(
    faster_rcnn=osp.join(CONFIG_ROOT, 'configs/dhkd/coco_faster_rcnn_r101_r50.py'),
    retinanet=osp.join(CONFIG_ROOT, 'configs/dhkd/coco_retinanet_r101_r50.py'))
#: what the peaks say where there is no GPU to measure them on
NO_GPU_PEAK = 'unavailable: no GPU (CPU run)'


def use_config_cudnn_benchmark(cfg) -> bool:
    """Sets cudnn.benchmark to the config's ``env_cfg.cudnn_benchmark`` and
    returns it.  MMEngine only ever switches it on: a classification run
    earlier in this process would leave it on for MMDetection's configs,
    whose default is off, and its autotuning workspaces would count in the
    peak memory."""
    torch.backends.cudnn.benchmark = bool(
        cfg.get('env_cfg', {}).get('cudnn_benchmark', False))
    return torch.backends.cudnn.benchmark


class DetCheck:
    """The detection measurements, sharing one generated COCO set."""

    def __init__(self, sizes, device: str, work: str, smoke: bool):
        self.sizes, self.device, self.work, self.smoke = (sizes, device,
                                                          work, smoke)
        from mmdet.datasets import CocoDataset
        self.root = osp.join(work, 'coco')
        # COCO's 80 categories, so that the configs' class list and label
        # mapping apply unchanged
        classes = CocoDataset.METAINFO['classes']
        self.num_classes = len(classes)
        self.val_ann = write_tiny_coco(self.root, 'val', sizes.det_val,
                                       sizes.det_image, seed=1,
                                       classes=classes)
        # one epoch covers the run: MMEngine sleeps 2 s when an iteration
        # loop restarts its data loader
        write_tiny_coco(self.root, 'train',
                        2 * (sizes.det_warmup + sizes.det_window) + 2,
                        sizes.det_image, seed=0, classes=classes)
        self.runs = 0

    def runner(self, kind: str, iters: int):
        """A runner of the DHKD ``kind`` config on the generated set for
        ``iters`` iterations (the models shrunk and the loaders without
        workers with ``smoke``), its teacher's random weights saved as the
        teacher checkpoint."""
        self.runs += 1
        teacher_ckpt = osp.join(self.work, f'det_teacher{self.runs}.pth')
        opts = {
            'model.teacher_ckpt': teacher_ckpt,
            'model.student.backbone.init_cfg': None,  # no download
            'train_dataloader.batch_size': 2,
            **dotted(dict(
                train_dataloader=dict(dataset=coco_dataset(self.root,
                                                           'train')),
                test_dataloader=dict(dataset=coco_dataset(self.root,
                                                          'val')))),
            'test_evaluator.ann_file': self.val_ann,
            'train_cfg.max_iters': iters,
            'val_dataloader': None, 'val_cfg': None, 'val_evaluator': None,
            'default_hooks.checkpoint': None,
            'randomness.seed': 0, 'log_level': 'WARNING',
            'experiment_name': f'det{self.runs}_{kind}',
        }
        if kind == 'faster_rcnn':
            # random weights score every class near 1/81: keep all boxes so
            # that the metric has detections to score
            opts['model.student.test_cfg.rcnn.score_thr'] = 0.0

        cfg = benchmark_config(DET_CONFIGS[kind], opts,
                               osp.join(self.work, f'det{self.runs}'))
        if self.smoke:
            scale = tuple(round(s * 1.2) for s in self.sizes.det_image)
            for loader in (cfg.train_dataloader, cfg.test_dataloader):
                loader.update(num_workers=0, persistent_workers=False)
                for step in loader.dataset.pipeline:
                    if step.type == 'Resize':
                        step.scale = scale
            # ResNet-18 and a 64-wide FPN instead of R50 / R101; the
            # teacher is the student with plain heads
            student = cfg.model.student
            cfg.model.teacher = shrink_detector(
                student, kind, dual=False, num_classes=self.num_classes)
            cfg.model.student = shrink_detector(
                student, kind, dual=True, num_classes=self.num_classes)
        runner = build_runner(cfg)
        # the teacher's own random weights, loaded back as its checkpoint
        torch.save({'state_dict': runner.model.teacher.state_dict()},
                   teacher_ckpt)
        return runner

    def train(self, kind: str) -> dict:
        """Seconds per iteration of the ``kind`` DHKD config, the teacher's
        share of them and the peak GPU memory."""
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
        use_config_cudnn_benchmark(runner.cfg)
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
            teacher_s, peak = sum(spans), NO_GPU_PEAK
        s_per_iter = timer.seconds / timer.iters
        return dict(
            config=osp.relpath(DET_CONFIGS[kind], CONFIG_ROOT),
            pair='R18 -> R18 (smoke)' if self.smoke else 'R101 -> R50',
            image=list(self.sizes.det_image), batch=2,
            iters_timed=timer.iters, s_per_iter=round(s_per_iter, 4),
            teacher_s_per_iter=round(teacher_s / timer.iters, 4),
            teacher_share=round(teacher_s / timer.seconds, 3),
            teacher_timing=('CUDA events around DetDistiller.teacher_logits'
                            if self.device == 'cuda' else 'wall clock'),
            cudnn_benchmark=torch.backends.cudnn.benchmark,
            # torch.cuda.max_memory_allocated over the first `warmup`
            # iterations, and after them (the peak statistics reset)
            warmup_iters=warmup,
            peak_gpu_mem_gib_warmup=(peaks.warmup if self.device == 'cuda'
                                     else NO_GPU_PEAK),
            peak_gpu_mem_gib_steady=peak)

    def step_ratio(self) -> dict:
        """DHKD step / (student step + teacher forward) of the Faster R-CNN
        pair at the check's image size and batch 2 on the device, with
        cudnn.benchmark as the config sets it (R18 -> R18 at 64x64 with
        ``smoke``)."""
        cudnn_benchmark = use_config_cudnn_benchmark(
            load_config(DET_CONFIGS['faster_rcnn']))
        width, height = (64, 64) if self.smoke else self.sizes.det_image
        depths = (18, 18) if self.smoke else (50, 101)
        return dict(measure_det_steps(
            *depths, height, width, 2, self.device, self.sizes.ratio_iters,
            self.sizes.ratio_warmup), cudnn_benchmark=cudnn_benchmark)

    def test(self) -> dict:
        """A test pass of the Faster R-CNN config with CocoMetric."""
        runner = self.runner('faster_rcnn', 1)
        t0 = time.perf_counter()
        try:
            metrics = runner.test()
        finally:
            stop_loader_workers(runner)
        seconds = time.perf_counter() - t0
        return dict(images=self.sizes.det_val, test_loop_s=round(seconds, 2),
                    metrics={k: float(v) for k, v in metrics.items()})
