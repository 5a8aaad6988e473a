"""Test-only (imported through custom_imports): a signal sent to the
training process itself at a chosen point, as slurm or an operator would.

``DHKD_SIGNAL='<TERM|USR1|KILL>:iter:<n>'`` sends it at the end of the n-th
training iteration (before the hooks of the run act on that iteration);
``'KILL:epoch:<n>'`` after epoch n, once its checkpoint is written."""
import os
import signal

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


def _wanted():
    if not os.environ.get('DHKD_SIGNAL'):
        return None, None, 0
    name, where, n = os.environ['DHKD_SIGNAL'].split(':')
    return getattr(signal, f'SIG{name}'), where, int(n)


@HOOKS.register_module()
class SendSignalAtIterHook(Hook):
    priority = 'VERY_HIGH'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        signum, where, n = _wanted()
        if where == 'iter' and runner.iter + 1 == n:
            os.kill(os.getpid(), signum)


@HOOKS.register_module()
class SendSignalAfterEpochHook(Hook):
    priority = 'LOWEST'  # after the checkpoint hook

    def after_train_epoch(self, runner):
        signum, where, n = _wanted()
        if where == 'epoch' and runner.epoch + 1 == n:
            os.kill(os.getpid(), signum)
