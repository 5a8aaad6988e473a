"""Names that configs written before a rename still use build the new
module and warn once, naming the new name."""
import warnings

import torch.nn as nn
from mmengine.registry import MODEL_WRAPPERS, Registry

import dhkd_det  # noqa: F401
from dhkd_det.engine import DistillerDataParallel
from dhkd_det.utils import register_alias


def test_alias_builds_the_new_class_and_warns_once():
    registry = Registry('toy')

    @registry.register_module()
    class New:

        def __init__(self, x=1):
            self.x = x

    register_alias(registry, 'OldToyName', New)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        first = registry.build(dict(type='OldToyName', x=3))
        second = registry.build(dict(type='OldToyName'))
    assert isinstance(first, New) and first.x == 3 and second.x == 1
    messages = [str(w.message) for w in caught
                if issubclass(w.category, DeprecationWarning)]
    assert messages == ["type='OldToyName' is a deprecated name of 'New': "
                        "write type='New' in the config"]


def test_the_former_cpu_ddp_wrapper_is_the_distiller_wrapper():
    old = MODEL_WRAPPERS.get('CPUDistributedDataParallel')
    assert issubclass(old, DistillerDataParallel)
    # MMEngine tells a wrapped model by isinstance against every registered
    # wrapper, so the alias must be a class
    assert isinstance(old, type) and issubclass(old, nn.Module)
