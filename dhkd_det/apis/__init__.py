"""What the command lines call: load a config, build a runner, run it."""
from .config import (apply_amp, apply_cuda_graph, check_launcher,
                     epochs_to_iters, load_config)
from .dhkd_runner import DHKDRunner
from .runner import (RunFailed, SubprocessRun, build_runner,
                     close_distributed, init_cpu_process_group, run_config,
                     train_in_process, train_in_subprocess)

__all__ = ['DHKDRunner', 'RunFailed', 'SubprocessRun', 'apply_amp',
           'apply_cuda_graph', 'build_runner', 'check_launcher',
           'close_distributed', 'epochs_to_iters', 'init_cpu_process_group',
           'load_config', 'run_config', 'train_in_process',
           'train_in_subprocess']
