"""Loading the checkpoint tools/test.py evaluates, strictly: a test must
never report the metrics of weights it did not load.  MMEngine loads with
``strict=False``, warns about the missing keys and goes on to evaluate the
random initialisation.

Accepted are the model's own checkpoints (DDP's ``module.`` prefix
stripped) and the student alone, as ``tools/export_student.py`` writes it
(or a plain zoo network's weights): it is loaded into the model's student,
whose auxiliary head it does not have, so only the main head is reported.
"""
import logging

import torch.nn as nn
from mmengine.logging import print_log

from ..distillers.teacher import extract_state_dict
from ..models.dual_head import aux_state_keys
from .read import compare_state, describe_mismatch, \
    read_checkpoint

# where an exported student's keys sit in our models: the classification
# wrapper's network, a detection distiller's student
_STUDENT_PREFIXES = ('student.network.', 'student.')


def load_for_test(model: nn.Module, path: str, config: str) -> None:
    """Load checkpoint ``path`` into ``model`` (built from ``config``) or
    raise naming the checkpoint, what does not fit and the fix."""
    state = extract_state_dict(read_checkpoint(path))
    if state and all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    candidates = [('', state)] + [
        (prefix, {prefix + k: v for k, v in state.items()})
        for prefix in _STUDENT_PREFIXES]
    # the reading of the keys that leaves the fewest model weights unloaded
    prefix, mapped, mismatch = min(
        ((p, s, compare_state(s, model)) for p, s in candidates),
        key=lambda c: (len(c[2][0]) + len(c[2][1]) + len(c[2][2])))
    missing, unexpected, shapes = mismatch
    if unexpected or shapes or not set(missing) <= aux_state_keys(model):
        raise ValueError(
            f'checkpoint {path} does not fit the model of {config}: '
            f'{describe_mismatch(mismatch, len(model.state_dict()))}. '
            'tools/test.py reports only weights it loaded: test a '
            'checkpoint with the config that trained it (a distiller '
            'checkpoint with its distillation config, a teacher with its '
            'configs/teachers/ config) or a tools/export_student.py output '
            'with the distillation config of that student.')
    model.load_state_dict(mapped, strict=not missing)
    if missing:
        if getattr(model, 'eval_aux', False):
            model.eval_aux = False
        print_log(
            f'{path} holds the student without its auxiliary head '
            f'({len(missing)} weights, e.g. {missing[:2]}): reporting the '
            'main head only.', 'current', logging.WARNING)
    print_log(f'loaded {len(mapped)} weights from {path}'
              + (f' into the student ({prefix}*)' if prefix else ''),
              'current')
