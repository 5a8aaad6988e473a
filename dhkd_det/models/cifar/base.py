"""Helpers the CIFAR networks share: classifier names of the reference,
ShuffleNet's channel shuffle, and the reference initialisation."""
from typing import Optional

import torch.nn as nn
from torch import Tensor


def classifier_alias(path: str) -> property:
    """``fc`` as a view on the classifier at ``path`` (e.g. 'classifier.0').

    The reference names some classifiers ``classifier`` or ``linear``; the
    module stays there so that published checkpoints load strictly, and a
    property (not a second registered module) avoids duplicate state-dict
    keys.
    """
    return property(lambda self: self.get_submodule(path),
                    doc=f'The classifier, registered as `{path}`.')


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """ShuffleNet's shuffle: (N, g*c, H, W) -> (N, c*g, H, W), interleaved."""
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(
        n, c, h, w)


def reference_init(model: nn.Module, linear_std: Optional[float] = None,
                   linear_zero_bias: bool = False) -> None:
    """The zoo's initialisation as in CRD / mdistiller: He normal (fan-out)
    convolutions with zero bias, BatchNorm weight 1 / bias 0; linear layers
    keep PyTorch's default unless the reference draws their weights from
    N(0, linear_std) (with zero bias) or zeroes their bias."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                    nonlinearity='relu')
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            if linear_std is not None:
                nn.init.normal_(m.weight, 0, linear_std)
            if linear_std is not None or linear_zero_bias:
                nn.init.zeros_(m.bias)
