"""mmcv's ops without compiling mmcv: which kernels are in use, and a check
that they run on the model's device.  See ``import_hook.py``."""
from .import_hook import ENV, HOW_TO_COMPILE, install, requested_mode

__all__ = ['ENV', 'install', 'requested_mode', 'ops_backend',
           'check_ops_device']


def ops_backend() -> str:
    """``'served'`` (torchvision / PyTorch kernels), ``'compiled'`` (mmcv's
    extension) or ``'missing'`` (mmcv not installed)."""
    install()
    try:
        from mmcv import _ext
    except ImportError:
        return 'missing'
    return 'served' if getattr(_ext, 'DHKD_SERVED', False) else 'compiled'


def check_ops_device(device) -> None:
    """Raise before training / testing if the model goes to a CUDA device
    but mmcv's compiled ops were built without CUDA kernels (which would
    otherwise fail inside the first RoIAlign / nms call)."""
    import torch
    if torch.device(device).type != 'cuda' or ops_backend() != 'compiled':
        return
    from mmcv import _ext
    if _ext.get_compiling_cuda_version() in ('', 'not available'):
        raise RuntimeError(
            "the model is on a CUDA device, but the installed mmcv's "
            'compiled ops were built without CUDA kernels. Use the ops '
            f'served by torchvision (set {ENV}=torchvision), or rebuild '
            "mmcv's ops where a GPU and nvcc are visible: " + HOW_TO_COMPILE)
