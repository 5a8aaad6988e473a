"""Test-only (imported through custom_imports): a signal sent to the
training process itself at a chosen point, as slurm or an operator would.

``DHKD_SIGNAL='<TERM|USR1|KILL>:iter:<n>'`` sends it at the end of the n-th
training iteration (before the hooks of the run act on that iteration);
``'KILL:epoch:<n>'`` after epoch n, once its checkpoint is written.  With a
fourth field ``':launcher'`` rank 0 sends it instead to the process group of
its parent, torchrun (the group of tools/dist_train.sh), as a signal to the
whole job would arrive (torchrun passes it on to its processes)."""
import os
import signal

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


def _wanted():
    if not os.environ.get('DHKD_SIGNAL'):
        return None, None, 0
    name, where, n = os.environ['DHKD_SIGNAL'].split(':')[:3]
    return getattr(signal, f'SIG{name}'), where, int(n)


def _send(signum):
    if os.environ['DHKD_SIGNAL'].endswith(':launcher'):
        if os.environ.get('RANK', '0') == '0':
            os.killpg(os.getpgid(os.getppid()), signum)
    else:
        os.kill(os.getpid(), signum)


@HOOKS.register_module()
class SendSignalAtIterHook(Hook):
    priority = 'VERY_HIGH'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        signum, where, n = _wanted()
        if where == 'iter' and runner.iter + 1 == n:
            _send(signum)


@HOOKS.register_module()
class SendSignalAfterEpochHook(Hook):
    priority = 'LOWEST'  # after the checkpoint hook

    def after_train_epoch(self, runner):
        signum, where, n = _wanted()
        if where == 'epoch' and runner.epoch + 1 == n:
            _send(signum)
