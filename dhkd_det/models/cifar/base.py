"""What every network of the zoo shares: logits = fc(forward_features(x)).

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
