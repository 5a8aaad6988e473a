"""What MMEngine's runner is given besides the model: hooks (one a file in
``hooks/``), the DDP wrapper of the distillers and the optional TensorBoard
backend."""
from .ddp import DistillerDataParallel
from .distiller_of import distiller_of
from .hooks import *  # noqa: F401,F403
from .hooks import __all__ as _hooks
from .vis_backends import OptionalTensorboardVisBackend

__all__ = ['DistillerDataParallel', 'distiller_of',
           'OptionalTensorboardVisBackend'] + _hooks
