"""Collect what a submodule sees or returns during a call we do not own.

The dual heads leave MMDetection's forwards and losses untouched: the
distiller runs the detector's own ``loss`` and reads the classification
features and logits on the way, through temporary hooks removed on exit.
"""
from contextlib import contextmanager
from typing import Any, Iterator, List

import torch.nn as nn


@contextmanager
def inputs_of(module: nn.Module) -> Iterator[List[Any]]:
    """Yields a list that receives the first positional input of every call
    of ``module`` while the context is active."""
    seen = []
    handle = module.register_forward_pre_hook(
        lambda _module, args: seen.append(args[0]))
    try:
        yield seen
    finally:
        handle.remove()


@contextmanager
def outputs_of(module: nn.Module) -> Iterator[List[Any]]:
    """Yields a list that receives the output of every call of ``module``
    while the context is active."""
    seen = []
    handle = module.register_forward_hook(
        lambda _module, _args, output: seen.append(output))
    try:
        yield seen
    finally:
        handle.remove()
