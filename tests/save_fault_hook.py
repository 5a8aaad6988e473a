"""Test-only (imported through custom_imports): a checkpoint save that is
interrupted part-way through the write, as a crash, a full disk or a kill
would, and a metric that rises at every validation in a process, so that the
first validations each save a new best checkpoint.

``DHKD_FAULT='<kill|raise>:<file name>[:<n>]'`` writes half of that file's
bytes (at its n-th write, default the first), then SIGKILLs the process or
raises an OSError.  ``DHKD_FAULT='kill:last_checkpoint'`` SIGKILLs the
process before it writes ``last_checkpoint`` the first time."""
import os
import os.path as osp
import signal

from mmengine.evaluator import BaseMetric
from mmengine.fileio.backends import LocalBackend
from mmengine.registry import METRICS

from dhkd_det.engine.hooks import atomic_checkpoint_hook

_put = LocalBackend.put
_writes = {}


def _fault():
    mode, _, target = os.environ['DHKD_FAULT'].partition(':')
    name, _, nth = target.partition(':')
    return mode, name, int(nth or 1)


def _faulty_put(self, obj, filepath):
    mode, name, nth = _fault()
    # the file itself or a hidden temporary name of it ('.epoch_2.pth...')
    if not osp.basename(filepath).lstrip('.').startswith(name):
        return _put(self, obj, filepath)
    _writes[name] = _writes.get(name, 0) + 1
    if _writes[name] != nth:
        return _put(self, obj, filepath)
    with open(filepath, 'wb') as f:
        f.write(obj[:len(obj) // 2])
        f.flush()
    if mode == 'kill':
        os.kill(os.getpid(), signal.SIGKILL)
    raise OSError(28, 'No space left on device (injected by the test)')


def _killed_before_last_checkpoint(path, text):
    if osp.basename(path) == 'last_checkpoint':
        os.kill(os.getpid(), signal.SIGKILL)
    _write_text(path, text)


if os.environ.get('DHKD_FAULT', '').endswith(':last_checkpoint'):
    _write_text = atomic_checkpoint_hook.atomic_write_text
    atomic_checkpoint_hook.atomic_write_text = _killed_before_last_checkpoint
elif os.environ.get('DHKD_FAULT'):
    LocalBackend.put = _faulty_put


@METRICS.register_module()
class RisingMetric(BaseMetric):

    def __init__(self):
        super().__init__()
        self.calls = 0

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        self.calls += 1
        return {'rising': self.calls}
