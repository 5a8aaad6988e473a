"""Measurements of dhkd_det's training speed and correctness on a device:
the GPU check (``run_gpu_check``, tools/benchmarks/gpu_check.py) and the
harness it is made of (a report of parts under time limits, window timers,
a host-sync counter), usable for other measurements."""
from .gpu_check import GPU, SMOKE, run_gpu_check, summary
from .host_syncs import count_host_syncs, summarise_syncs
from .report import PartTimeout, Report, time_limit
from .runs import benchmark_config, stop_loader_workers
from .timers import PeakMemory, WindowTimer, synchronize

__all__ = [
    'GPU', 'SMOKE', 'PartTimeout', 'PeakMemory', 'Report', 'WindowTimer',
    'benchmark_config', 'count_host_syncs', 'run_gpu_check',
    'stop_loader_workers', 'summarise_syncs', 'summary', 'synchronize',
    'time_limit'
]
