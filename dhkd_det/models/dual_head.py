"""The dual head of DHKD: a main classifier ``fc`` (trained by the task loss,
used for prediction) and an auxiliary classifier (trained only by the
logit-level distillation loss) reading the same feature.

``build_aux_head`` is the one definition of the auxiliary head's shapes; the
classification wrapper below and the detection heads all build theirs with it.

Every module holding an auxiliary classifier says so: its
``aux_module_names()`` lists the attributes that are auxiliary.  Export,
test loading, the gradient diagnostics and the tests find the auxiliary
weights through that (``named_aux_modules``, ``aux_state_keys``), never by
a parameter's name.
"""
from typing import Dict, Iterable, NamedTuple, Optional, Set, Tuple

import torch.nn as nn
from mmengine.registry import MODELS
from torch import Tensor

AUX_HEAD_KINDS = ('linear', 'nonlinear')
#: the heads a loss config can name: the main classifier, the auxiliary one
HEADS = ('main', 'aux')


def check_loss_heads(group: str, heads: Iterable[str], has_aux: bool,
                     aux_fix: str) -> None:
    """The heads of ``model.<group>`` (a ``{head: loss_cfg}``) exist:
    each is one of ``HEADS``, and 'aux' only where the student has an
    auxiliary classifier (else the error says ``aux_fix``)."""
    for head in heads:
        if head not in HEADS:
            raise KeyError(f'model.{group} has a loss for head {head!r}; '
                           f'heads are {HEADS}')
        if head == 'aux' and not has_aux:
            raise ValueError(
                f'model.{group} puts a loss on the aux head, which needs a '
                f'student with an aux classifier: {aux_fix}')


def build_aux_head(kind: str, in_features: int, num_classes: int,
                   hidden: int = 200, dropout: float = 0.1) -> nn.Module:
    """Auxiliary head as in the DHKD reference.

    linear:    Linear(d, C)
    nonlinear: Linear(d, 200) -> Dropout(0.1) -> BatchNorm1d(200) -> ReLU
               -> Linear(200, C)
    """
    if kind == 'linear':
        return nn.Linear(in_features, num_classes)
    if kind == 'nonlinear':
        return nn.Sequential(
            nn.Linear(in_features, hidden), nn.Dropout(dropout),
            nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes))
    raise ValueError(f'aux_head={kind!r} is not one of {AUX_HEAD_KINDS} '
                     '(or None for a single-head model)')


def named_aux_modules(model: nn.Module) -> Dict[str, nn.Module]:
    """The auxiliary classifiers inside ``model`` by qualified name, as the
    modules holding them declare them (``aux_module_names()``)."""
    found = {}
    for name, module in model.named_modules():
        declared = getattr(module, 'aux_module_names', None)
        for attr in declared() if callable(declared) else ():
            found[f'{name}.{attr}' if name else attr] = getattr(module, attr)
    return found


def aux_state_keys(model: nn.Module) -> Set[str]:
    """The keys of ``model.state_dict()`` that belong to auxiliary
    classifiers: what a deployed student leaves out."""
    return {f'{name}.{key}'
            for name, module in named_aux_modules(model).items()
            for key in module.state_dict()}


class HeadOutputs(NamedTuple):
    main: Tensor
    aux: Optional[Tensor] = None


@MODELS.register_module()
class DualHeadClassifier(nn.Module):
    """Any network of the zoo carrying an auxiliary head next to its ``fc``.

    The network keeps its own parameter names (``network.fc`` is the main
    head), so exporting ``network.*`` gives a plain checkpoint of the zoo
    model.  The network must provide ``forward_features(x) -> (N, d)``, ``fc``
    and ``feat_dim``.

    Args:
        network: config of a zoo model, e.g. ``dict(type='resnet8x4',
            num_classes=100)``.
        aux_head: 'linear', 'nonlinear' or None (single head).
    """

    def __init__(self, network: dict, aux_head: Optional[str] = 'nonlinear'):
        super().__init__()
        self.network = MODELS.build(network) if isinstance(network,
                                                           dict) else network
        for attr in ('forward_features', 'fc', 'feat_dim'):
            if not hasattr(self.network, attr):
                raise TypeError(
                    f'{type(self.network).__name__} has no `{attr}`: a dual '
                    'head needs a network of the dhkd_det zoo')
        self.aux_head = None if aux_head is None else build_aux_head(
            aux_head, self.network.feat_dim, self.network.fc.out_features)

    @property
    def num_classes(self) -> int:
        return self.network.fc.out_features

    def aux_module_names(self) -> Tuple[str, ...]:
        return () if self.aux_head is None else ('aux_head', )

    def forward(self, x: Tensor) -> HeadOutputs:
        h = self.network.forward_features(x)
        main = self.network.fc(h)
        aux = None if self.aux_head is None else self.aux_head(h)
        return HeadOutputs(main, aux)
