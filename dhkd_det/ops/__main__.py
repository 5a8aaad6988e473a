"""``python -m dhkd_det.ops``: which mmcv kernels this environment uses and
whether the start-up hook (``dhkd_det_mmcv_ops.pth``, put into
site-packages by ``tools/install.sh``) is installed."""
import os.path as osp
import sysconfig

from . import ENV, ops_backend, requested_mode

PTH = 'dhkd_det_mmcv_ops.pth'

if __name__ == '__main__':
    hook = osp.join(sysconfig.get_paths()['purelib'], PTH)
    print(f'{ENV}={requested_mode()}  mmcv ops: {ops_backend()}  start-up '
          f'hook: {hook if osp.isfile(hook) else "not installed"}')
