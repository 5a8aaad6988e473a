"""What the command lines call: load a config, build a runner, run it."""
from .config import apply_amp, epochs_to_iters, load_config
from .runner import (build_runner, close_distributed, init_cpu_process_group,
                     train_in_process)

__all__ = ['apply_amp', 'build_runner', 'close_distributed',
           'epochs_to_iters', 'init_cpu_process_group', 'load_config',
           'train_in_process']
