from .binary_kl import binary_kl, binary_kl_norm
from .dist import dist_loss, pearson
from .dkd import dkd_loss
from .kd import kd_loss
from .logit_stand import standardize
from .modules import (BinaryKLLoss, BinaryKLNormLoss, CrossEntropyLoss,
                      DistillLoss, DISTLoss, DKDLoss, KDLoss,
                      check_distill_loss, check_number)

__all__ = [
    'binary_kl_norm', 'binary_kl', 'kd_loss', 'dkd_loss', 'dist_loss',
    'pearson', 'standardize', 'BinaryKLNormLoss', 'BinaryKLLoss', 'KDLoss',
    'DKDLoss', 'DISTLoss', 'CrossEntropyLoss', 'DistillLoss',
    'check_distill_loss', 'check_number'
]
