"""What every network of the zoo (CIFAR and ImageNet) shares:
logits = fc(forward_features(x)).

The reference networks (CRD / mdistiller) return ``(logits, feats)``; ours
return logits only and expose the pooled feature through ``forward_features``
so that the dual head can put a second classifier on it.
"""
import torch.nn as nn
from torch import Tensor


class ZooNet(nn.Module):
    """Base of the zoo: ``forward_features(x) -> (N, feat_dim)``, ``fc``."""

    def forward_features(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    @property
    def feat_dim(self) -> int:
        return self.fc.in_features

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.forward_features(x))
