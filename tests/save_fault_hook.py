"""Test-only (imported through custom_imports): a checkpoint save that is
interrupted part-way through the write, as a crash, a full disk or a kill
would, and a metric that rises at every validation in a process, so that the
first validations each save a new best checkpoint.

``DHKD_FAULT='<kill|raise>:<file name>'`` writes half of that file's bytes,
then SIGKILLs the process or raises an OSError."""
import os
import os.path as osp
import signal

from mmengine.evaluator import BaseMetric
from mmengine.fileio.backends import LocalBackend
from mmengine.registry import METRICS

_put = LocalBackend.put


def _faulty_put(self, obj, filepath):
    mode, _, name = os.environ['DHKD_FAULT'].partition(':')
    # the file itself or a hidden temporary name of it ('.epoch_2.pth...')
    if not osp.basename(filepath).lstrip('.').startswith(name):
        return _put(self, obj, filepath)
    with open(filepath, 'wb') as f:
        f.write(obj[:len(obj) // 2])
        f.flush()
    if mode == 'kill':
        os.kill(os.getpid(), signal.SIGKILL)
    raise OSError(28, 'No space left on device (injected by the test)')


if os.environ.get('DHKD_FAULT'):
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
