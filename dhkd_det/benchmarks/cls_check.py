"""The classification part of the GPU check: DHKD resnet32x4 -> resnet8x4
(configs/dhkd/cifar100_res32x4_res8x4.py) through MMEngine's runner, timed
per variant (data loader, precision, memory format, gradient alignment),
its host syncs counted, and the same step in a bare PyTorch loop."""
import os.path as osp
import time

import torch
import torch.nn.functional as F
from mmengine.registry import MODELS

from ..apis import build_runner, load_config
from ..datasets import CIFAR100
from ..losses import binary_kl_norm
from ..testing import save_teacher, write_random_cifar
from ..utils.paths import CONFIG_ROOT
from .host_syncs import summarise_syncs
from .report import Report
from .runs import benchmark_config, stop_loader_workers
from .timers import WindowTimer, synchronize

#: the checkout holding the configs the check measures
CLS_CONFIG = osp.join(CONFIG_ROOT, 'configs/dhkd/cifar100_res32x4_res8x4.py')
RECIPE_ITERS = 782 * 240  # CIFAR-100: 50,000 / 64 per epoch, 240 epochs

# First the variants that decide the recipe's wall time: the captured step
# (model.cuda_graph) with and without gradient alignment, in float32 and
# bfloat16, on the GPU-resident set, and the eager step beside it; then the
# rest, after detection, so that a slow machine still measures every part
# once.
CORE_VARIANTS = [
    dict(loader='gpu_resident', precision=precision, channels_last=False,
         ga=ga, graph=True)
    for ga in (True, False) for precision in ('fp32', 'bf16')] + [
    dict(loader='gpu_resident', precision='fp32', channels_last=False,
         ga=ga, graph=False) for ga in (True, False)]
# the other settings, each against its core neighbour: the loader (CPU
# workers, eager and captured), the memory format, bfloat16 eager
MORE_VARIANTS = [
    dict(loader='cpu_workers', precision='fp32', channels_last=False,
         ga=True, graph=graph) for graph in (True, False)] + [
    dict(loader='gpu_resident', precision=precision, channels_last=True,
         ga=True, graph=True) for precision in ('fp32', 'bf16')] + [
    dict(loader='gpu_resident', precision='bf16', channels_last=False,
         ga=ga, graph=False) for ga in (True, False)]
# --smoke: each setting at least once (channels_last, both plain wrappers,
# the captured step on host batches)
SMOKE_MORE_VARIANTS = [
    dict(loader='gpu_resident', precision='fp32', channels_last=True,
         ga=False, graph=False),
    dict(loader='gpu_resident', precision='bf16', channels_last=False,
         ga=False, graph=False),
    dict(loader='cpu_workers', precision='fp32', channels_last=False,
         ga=True, graph=True)]


def variant_name(v: dict) -> str:
    """e.g. ``gpu_resident-bf16-nchw-ga-graph``."""
    return '-'.join([v['loader'], v['precision'],
                     'channels_last' if v['channels_last'] else 'nchw',
                     'ga' if v['ga'] else 'no_ga',
                     'graph' if v.get('graph') else 'eager'])
class ClsCheck:
    """The classification measurements, sharing one data set and teacher."""

    def __init__(self, sizes, device: str, work: str, smoke: bool):
        self.sizes, self.device, self.work = sizes, device, work
        self.data_root = osp.join(work, 'cifar')
        write_random_cifar(self.data_root, num_classes=100,
                           n_train=sizes.cls_images, n_test=16)
        self.student, self.teacher = (('resnet8', 'resnet8') if smoke else
                                      ('resnet8x4', 'resnet32x4'))
        self.teacher_ckpt = osp.join(work, 'cls_teacher.pth')
        save_teacher(self.teacher_ckpt, self.teacher, num_classes=100)
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
        if v.get('graph'):
            opts['model.cuda_graph'] = True
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
        options = self.options(v, warmup + window)
        runner = build_runner(benchmark_config(
            CLS_CONFIG, options, osp.join(self.work, f'cls{self.runs}')))
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
        for loader, graph in (('gpu_resident', False), ('gpu_resident', True),
                              ('cpu_workers', False)):
            v = dict(loader=loader, precision='fp32', channels_last=False,
                     ga=True, graph=graph)
            timer = self.train(v, self.sizes.sync_warmup,
                               self.sizes.sync_window, count_syncs=True)
            out[variant_name(v)] = summarise_syncs(timer.syncs, timer.iters)
        out['note'] = (
            "DeferredRuntimeInfoHook (in place of MMEngine's "
            'RuntimeInfoHook, which read every logged value with item() '
            'each iteration) keeps the logged values on the device and '
            "reads them in one go at the logger's interval, epoch ends, "
            'checkpoints and validation; LossGuardHook reads its buffer '
            'every 50 iterations; PreemptionHook reads no tensor in one '
            'process')
        return out

    def ceiling(self) -> dict:
        """The DHKD step (no GA) in a bare loop on GPU-resident batches:
        no hooks, no logging, no host sync."""
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
    """Measures each of ``variants`` as its own entry of the report's
    ``cls`` part, each under the time limit ``cap``."""
    entries = report.data.setdefault('cls', dict(
        config=osp.relpath(CLS_CONFIG, CONFIG_ROOT),
        pair=f'{check.teacher} -> {check.student}',
        train_images=check.sizes.cls_images,
        recipe_iters=RECIPE_ITERS, variants=[]))['variants']
    for v in variants:
        entry = report.run(lambda: check.variant(v), cap)
        entry.setdefault('name', variant_name(v))
        entries.append(entry)
        report.write()
