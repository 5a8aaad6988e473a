"""The CIFAR DHKD step on the CPU under several memory allocators:
the step benchmark (``train_step.py``, run as ``python -m
dhkd_det.benchmarks.train_step``) once per allocator setting and round, in
rotating order, each run its own process (an allocator is chosen when a
process starts), and its figures gathered into medians and ranges.

Why it matters: a training step frees and reallocates the same large
activation buffers every iteration.  glibc's malloc serves blocks above its
mmap threshold with fresh ``mmap`` calls and returns the top of its heap to
the kernel above its trim threshold, so the step touches new pages, each a
minor page fault, again and again."""
import os
import re
import statistics
import subprocess
import sys
from typing import Dict, List, Optional

from ..utils.paths import child_env
from .interleaved import interleaved_times

#: the step benchmark each allocator runs, in a process of its own
TRAIN_STEP = 'dhkd_det.benchmarks.train_step'

#: 1 GiB for both of glibc's thresholds: above every block a step
#: allocates (its largest activations are tens of MiB at batch 64), so none
#: is mmapped afresh each step, and above what a step frees at once, so the
#: freed heap top stays for the next step.  glibc 2.36 takes both from the
#: environment uncapped (a 100 MiB block then comes from the heap), unlike
#: ``mallopt(M_MMAP_THRESHOLD)``, capped at 32 MiB.
MMAP_THRESHOLD = TRIM_THRESHOLD = 1 << 30
#: jemalloc's decay returns freed pages to the kernel (by default within
#: seconds, the large ones at once); -1 keeps them, as the glibc thresholds do
NO_DECAY = 'dirty_decay_ms:-1,muzzy_decay_ms:-1'

#: name -> the environment that selects the allocator
SETTINGS = {
    'glibc': {},
    'glibc-thresholds': {'MALLOC_MMAP_THRESHOLD_': str(MMAP_THRESHOLD),
                         'MALLOC_TRIM_THRESHOLD_': str(TRIM_THRESHOLD)},
    'jemalloc': {'LD_PRELOAD': 'libjemalloc.so.2'},
    'jemalloc-no-decay': {'LD_PRELOAD': 'libjemalloc.so.2',
                          'MALLOC_CONF': NO_DECAY},
    'tcmalloc': {'LD_PRELOAD': 'libtcmalloc_minimal.so.4'},
}
#: where a preloaded allocator comes from (Debian / Ubuntu packages)
PACKAGES = {'libjemalloc.so.2': 'libjemalloc2',
            'libtcmalloc_minimal.so.4': 'libtcmalloc-minimal4'}

VARIANTS = {'a': 'distiller step', 'b': 'raw loop', 'c': 'GA step'}
_VARIANT_LINE = re.compile(
    r'^\s+\((?P<v>[abc])\) .*median\s+(?P<ms>[\d.]+) ms/iter.*'
    r'minor page faults/step (?P<faults>\d+)', re.M)
_RATIO_LINE = re.compile(r'^(?P<name>[ac]/[ab]) = (?P<value>[\d.]+)', re.M)


def missing_library(env: dict) -> Optional[str]:
    """The library of ``env``'s ``LD_PRELOAD`` when a process started with
    it does not have it mapped (the loader only warns and goes on with
    glibc), else None."""
    library = env.get('LD_PRELOAD')
    if not library:
        return None
    maps = subprocess.run(
        [sys.executable, '-c', "print(open('/proc/self/maps').read())"],
        env={**os.environ, **env}, capture_output=True, text=True).stdout
    return None if os.path.basename(library) in maps else library


def train_step_figures(env: dict, args: List[str]) -> dict:
    """One run of train_step.py with ``args`` under ``env``: ms per step
    and minor page faults per step of each variant, and its ratios."""
    proc = subprocess.run([sys.executable, '-m', TRAIN_STEP, *args],
                          env=child_env({**os.environ, **env}),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'{TRAIN_STEP} failed:\n{proc.stderr[-3000:]}')
    out = {}
    for m in _VARIANT_LINE.finditer(proc.stdout):
        out[f"{m['v']}_ms"] = float(m['ms'])
        out[f"{m['v']}_faults"] = int(m['faults'])
    for m in _RATIO_LINE.finditer(proc.stdout):
        out[m['name']] = float(m['value'])
    return out


def compare_allocators(names: List[str], rounds: int,
                       args: List[str]) -> Dict[str, dict]:
    """``rounds`` runs of train_step.py ``args`` per allocator setting of
    ``names`` (keys of SETTINGS), round-robin in rotating order so that
    the load of a shared machine hits all alike; per setting, each figure
    as ``(median, min, max)`` over the rounds, or ``unavailable`` with the
    package to install."""
    out, runs = {}, {}
    for name in names:
        missing = missing_library(SETTINGS[name])
        if missing:
            out[name] = dict(unavailable=(
                f'{missing} is not installed (apt-get install '
                f'{PACKAGES[missing]})'))
        else:
            runs[name] = []
    interleaved_times(
        {name: (lambda name=name: runs[name].append(
            train_step_figures(SETTINGS[name], args))) for name in runs},
        rounds)
    for name, results in runs.items():
        out[name] = {key: (statistics.median(r[key] for r in results),
                           min(r[key] for r in results),
                           max(r[key] for r in results))
                     for key in results[0]}
    return out
