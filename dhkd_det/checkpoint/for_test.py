"""Loading the checkpoint tools/test.py evaluates, strictly: a test must
never report the metrics of weights it did not load.  MMEngine loads with
``strict=False``, warns about the missing keys and goes on to evaluate the
random initialisation.

Accepted are the model's own checkpoints and the student alone, as
``tools/export_student.py`` writes it (or a plain zoo network's weights), in
any layout of ``keys.KEY_PREFIXES``: the student alone is loaded into the
model's student, whose auxiliary head it does not have, so only the main
head is reported.
"""
import logging

import torch.nn as nn
from mmengine.logging import print_log

from ..models.dual_head import aux_state_keys
from .keys import extract_state_dict, match_keys, mismatch_error
from .read import read_checkpoint


def load_for_test(model: nn.Module, path: str, config: str) -> None:
    """Load checkpoint ``path`` into ``model`` (built from ``config``) or
    raise naming the checkpoint, what does not fit and the fix."""
    match = match_keys(extract_state_dict(read_checkpoint(path)), model)
    if not match.fits(missing_ok=aux_state_keys(model)):
        raise mismatch_error(
            'checkpoint', path, f'the model of {config}', match,
            'tools/test.py reports only weights it loaded: test a '
            'checkpoint with the config that trained it (a distiller '
            'checkpoint with its distillation config, a teacher with its '
            'configs/teachers/ config) or a tools/export_student.py output '
            'with the distillation config of that student.')
    missing = match.missing
    model.load_state_dict(match.state, strict=not missing)
    if missing:
        if getattr(model, 'eval_aux', False):
            model.eval_aux = False
        print_log(
            f'{path} holds the student without its auxiliary head '
            f'({len(missing)} weights, e.g. {missing[:2]}): reporting the '
            'main head only.', 'current', logging.WARNING)
    print_log(f'loaded {len(match.state)} weights from {path}'
              + (f' into the student ({match.add}*)' if match.add else ''),
              'current')
