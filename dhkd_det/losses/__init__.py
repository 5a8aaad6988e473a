from .binary_kl import binary_kl, binary_kl_norm
from .dkd import dkd_loss
from .kd import kd_loss
from .modules import (BinaryKLLoss, BinaryKLNormLoss, CrossEntropyLoss,
                      DKDLoss, KDLoss)

__all__ = [
    'binary_kl_norm', 'binary_kl', 'kd_loss', 'dkd_loss', 'BinaryKLNormLoss',
    'BinaryKLLoss', 'KDLoss', 'DKDLoss', 'CrossEntropyLoss'
]
