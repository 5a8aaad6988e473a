"""``load_from``: the weights a new run starts from are compared with the
built model before MMEngine loads them.  MMEngine loads them with
``strict=False``: another model's checkpoint loads partly (or not at all),
with a warning in the log, and training goes on from a mostly random model
with exit status 0."""
import logging
from typing import Optional

from mmengine.logging import print_log

from ..utils.model import unwrapped_model
from .keys import (MMENGINE_PREFIXES, extract_state_dict, match_keys,
                   mismatch_error)
from .read import read_checkpoint


def check_load_from(runner, path: Optional[str],
                    partial: bool = False) -> None:
    """Raise naming ``path``, what does not fit the model of ``runner`` and
    the fix, unless every weight fits; with ``partial`` (``tools/train.py
    --partial-load``) a partial fit only logs what is left out, and only
    a checkpoint none of whose weights fit is refused."""
    if not path:
        return
    what = 'load_from checkpoint'
    # mmap: a look at keys and shapes, the tensors are not read
    state = extract_state_dict(read_checkpoint(path, what, mmap=True))
    # MMEngine loads with its own key handling: only its prefixes count
    match = match_keys(state, unwrapped_model(runner), MMENGINE_PREFIXES)
    if match.fits():
        return
    target = f'the model of {runner.cfg.filename}'
    usable = len(match.state) - len(match.unexpected) - len(match.shapes)
    if partial and usable > 0:
        print_log(f'--partial-load: loading {usable} of the '
                  f'{match.num_model_keys} weights of {target} from {path}; '
                  f'the rest keep their initialisation: '
                  f'{match.describe()}', 'current', logging.WARNING)
        return
    fix = ('Point load_from at a checkpoint of this model (written with '
           'this config), or change the config to the model it was '
           'trained with.')
    if usable == 0:
        fix = 'None of its weights fit. ' + fix
    else:
        fix += (' To start on purpose from the weights that fit and leave '
                'the rest at their initialisation, add --partial-load.')
    raise mismatch_error(what, path, target, match, fix)
