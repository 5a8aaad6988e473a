"""Registered names kept for configs written before a rename: the old name
builds the new class and warns once per process."""
import warnings
from typing import Set

from mmengine.registry import Registry

_warned: Set[str] = set()


def register_alias(registry: Registry, old_name: str, cls: type) -> type:
    """Register ``old_name`` in ``registry`` as a subclass of ``cls`` whose
    construction warns (once) that the config should say ``cls.__name__``.
    A subclass, not a factory function: MMEngine's ``is_model_wrapper``
    tests ``isinstance`` against every registered wrapper."""

    def __init__(self, *args, **kwargs):
        if old_name not in _warned:
            _warned.add(old_name)
            warnings.warn(
                f"type={old_name!r} is a deprecated name of "
                f"{cls.__name__!r}: write type={cls.__name__!r} in the "
                'config', DeprecationWarning, stacklevel=2)
        cls.__init__(self, *args, **kwargs)

    alias = type(old_name, (cls, ), {
        '__init__': __init__,
        '__doc__': f'Deprecated name of :class:`{cls.__name__}`.',
        '__module__': cls.__module__})
    registry.register_module(name=old_name, module=alias)
    return alias
