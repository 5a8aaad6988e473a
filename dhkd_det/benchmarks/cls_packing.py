"""The GPU check's ``cls_packing`` part: how many CIFAR training runs to
pack on one GPU.  N real training runs (``dhkd-train``) of the DHKD config (GA,
float32, the GPU-resident training set, seeds 0 .. N-1) side by side on
the check's random CIFAR set; each times a window of iterations after its
warm-up, the windows started together (``PackedWindowTimerHook``), and the
part reports each process's rate, their sum, and the 240-epoch recipe's
wall time for one run and for the batch of N."""
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
from typing import List

from ..apis.runner import TRAIN_MODULE
from ..testing import dotted
from ..utils.paths import CONFIG_ROOT, child_env
from .cls_check import CLS_CONFIG, RECIPE_ITERS, ClsCheck, variant_name
from .packed_window_hook import WINDOW_FILE
from .report import Report

#: the quick start's recipe (GA, float32, NCHW) on GPU-resident data, the
#: step captured as a CUDA graph (--cuda-graph)
VARIANT = dict(loader='gpu_resident', precision='fp32', channels_last=False,
               ga=True, graph=True)
#: seconds a process waits for the others after its warm-up
BARRIER_TIMEOUT_S = 120


def cfg_option_args(options: dict) -> List[str]:
    """``options`` (dotted or nested) as tools/train.py's
    ``--cfg-options`` arguments."""
    return [f'{key}={"None" if value is None else value}'
            for key, value in dotted(options).items()]


def write_packing_config(path: str, start: int, stop: int, device: str,
                         barrier_dir: str, processes: int) -> str:
    """The DHKD config with the packing timer hook added (the rest of the
    changes go on the command line)."""
    hook = dict(type='PackedWindowTimerHook', start=start, stop=stop,
                device=device, barrier_dir=barrier_dir, processes=processes,
                barrier_timeout_s=BARRIER_TIMEOUT_S)
    with open(path, 'w') as f:
        f.write(f'_base_ = {CLS_CONFIG!r}\n'
                "custom_imports = dict(imports=['dhkd_det', "
                "'dhkd_det.benchmarks.packed_window_hook'], "
                'allow_failed_imports=False)\n'
                f'custom_hooks = _base_.custom_hooks + [{hook!r}]\n')
    return path


def packed_runs(check: ClsCheck, processes: int) -> dict:
    """``processes`` training runs side by side; their rates and the
    recipe's projected wall time."""
    sizes = check.sizes
    warmup, window = sizes.packing_warmup, sizes.packing_window
    root = osp.join(check.work, f'packing{processes}')
    os.makedirs(root)
    config = write_packing_config(
        osp.join(root, 'config.py'), warmup, warmup + window, check.device,
        osp.join(root, 'barrier'), processes)
    # on CPU (--smoke) one thread each, as the check's own process: more
    # only wait for each other on a small machine
    env = child_env(dict(os.environ, OMP_NUM_THREADS='1')
                    if check.device == 'cpu' else dict(os.environ))
    procs, work_dirs = [], []
    try:
        for seed in range(processes):
            options = check.options(VARIANT, warmup + window)
            options['randomness.seed'] = seed
            work_dirs.append(osp.join(root, f'seed{seed}'))
            os.makedirs(work_dirs[-1])
            with open(osp.join(work_dirs[-1], 'train.log'), 'w') as log:
                procs.append(subprocess.Popen(
                    [sys.executable, '-m', TRAIN_MODULE, config,
                     '--work-dir', work_dirs[-1], '--cfg-options',
                     *cfg_option_args(options)],
                    stdout=log, stderr=subprocess.STDOUT, env=env))
        for proc, work_dir in zip(procs, work_dirs):
            if proc.wait() != 0:
                with open(osp.join(work_dir, 'train.log')) as log:
                    raise RuntimeError(
                        f'{TRAIN_MODULE} exited with {proc.returncode}:\n'
                        f'{log.read()[-3000:]}')
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    windows = []
    for work_dir in work_dirs:
        with open(osp.join(work_dir, WINDOW_FILE)) as f:
            windows.append(json.load(f))
    rates = [w['iters'] / w['seconds'] for w in windows]
    span = max(w['end'] for w in windows) - min(w['begin'] for w in windows)
    batch_min = RECIPE_ITERS / min(rates) / 60  # the slowest run's end
    return dict(
        processes=processes, iters_timed=window,
        per_process_it_per_s=[round(r, 2) for r in rates],
        aggregate_it_per_s=round(sum(rates), 2),
        # all windows' iterations over the time from the first window's
        # start to the last one's end: lower when the windows did not
        # overlap fully
        aggregate_it_per_s_wall=round(sum(w['iters'] for w in windows) /
                                      span, 2),
        barrier_timed_out=any(w['barrier_timed_out'] for w in windows),
        run_240e_min=round(RECIPE_ITERS / statistics.median(rates) / 60, 1),
        batch_240e_min=round(batch_min, 1),
        per_run_240e_min_amortised=round(batch_min / processes, 1))


def cls_packing(report: Report, check: ClsCheck, counts, cap: float):
    """Measures ``counts`` processes side by side, each count as its own
    entry of the report's ``cls_packing`` part, under the time limit
    ``cap``."""
    entries = report.data.setdefault('cls_packing', dict(
        config=osp.relpath(CLS_CONFIG, CONFIG_ROOT),
        tool=f'python -m {TRAIN_MODULE}',
        variant=variant_name(VARIANT),
        pair=f'{check.teacher} -> {check.student}',
        batch=check.sizes.cls_batch, warmup=check.sizes.packing_warmup,
        recipe_iters=RECIPE_ITERS, counts=[]))['counts']
    for n in counts:
        entry = report.run(lambda: packed_runs(check, n), cap)
        entry.setdefault('processes', n)
        entries.append(entry)
        report.write()
