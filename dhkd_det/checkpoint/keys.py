"""Which weights of a checkpoint are which weights of a model: the one place
that knows the layouts checkpoints come in.  Every reader (the teacher,
``tools/test.py``, ``--resume``, ``tools/export_student.py``) matches keys
here and words its errors with ``mismatch_error``.

A checkpoint's weights sit in one of the usual containers
(``extract_state_dict``) under one of the prefixes of ``KEY_PREFIXES``; the
model's own keys may in turn sit under one of them (an exported student read
into a distiller is ``student.network.*`` there).  ``match_keys`` tries every
(strip, add) pair of prefixes and keeps the reading that fits best, so a new
layout is one entry in ``KEY_PREFIXES``.
"""
from typing import Dict, List, NamedTuple, Sequence, Tuple

import torch
import torch.nn as nn

#: where a model's keys may sit in a checkpoint, or a checkpoint's keys in a
#: model: bare, DDP ('module.'), our classifiers and distillers ('student.',
#: 'network.', 'student.network.'), DDP around a classifier
#: ('module.network.'), MMRazor's distillers ('architecture.')
KEY_PREFIXES = ('', 'module.', 'student.', 'network.', 'student.network.',
                'module.network.', 'architecture.')

#: the prefixes MMEngine's own loading strips (``load_checkpoint``'s
#: ``revise_keys``), the only ones a checkpoint MMEngine resumes may use
MMENGINE_PREFIXES = ('', 'module.')

#: the containers a checkpoint keeps its weights in: MMEngine
#: ('state_dict'), CRD / mdistiller / the DHKD reference ('model')
_STATE_KEYS = ('state_dict', 'model')


def extract_state_dict(checkpoint) -> Dict[str, torch.Tensor]:
    """The weights of a checkpoint in any of the usual layouts: MMEngine
    (``state_dict``), CRD / mdistiller / DHKD reference (``model``), or a
    bare state dict."""
    if not isinstance(checkpoint, dict):
        raise TypeError(f'a checkpoint must be a dict, got {type(checkpoint)}')
    for key in _STATE_KEYS:
        if key in checkpoint and isinstance(checkpoint[key], dict):
            return checkpoint[key]
    return checkpoint


#: mmcv 1.x's ``EMAHook`` (and MMDetection 2.x's EMA hooks) keep each
#: parameter's moving average beside it, as a buffer of the model named
#: ``ema_<parameter name with '.' as '_'>`` (``ema_backbone_conv1_weight``)
EMA_PREFIX = 'ema_'


def mmcv_ema_keys(state: Dict[str, torch.Tensor]) -> Dict[str, str]:
    """Each key of ``state`` that has an mmcv 1.x EMA twin -> that twin's
    key; empty for a checkpoint without EMA weights."""
    twins = {}
    for key in state:
        twin = EMA_PREFIX + key.replace('.', '_')
        if not key.startswith(EMA_PREFIX) and twin in state:
            twins[key] = twin
    return twins


def select_ema(state: Dict[str, torch.Tensor], use_ema: bool
               ) -> Dict[str, torch.Tensor]:
    """``state`` without its mmcv 1.x EMA keys: each parameter's EMA twin
    in its place when ``use_ema``, else the plain weights (buffers such as
    BatchNorm statistics have no twin and stay as they are)."""
    twins = mmcv_ema_keys(state)
    dropped = set(twins.values())
    selected = {k: v for k, v in state.items() if k not in dropped}
    if use_ema:
        for key, twin in twins.items():
            selected[key] = state[twin]
    return selected


Shape = Tuple[str, tuple, tuple]


class KeyMatch(NamedTuple):
    """A checkpoint's weights read as a model's: ``state`` under the model's
    keys (checkpoint prefix ``strip`` taken off, model prefix ``add`` put
    on) and how it falls short of the model."""
    state: Dict[str, torch.Tensor]
    strip: str
    add: str
    num_model_keys: int
    #: model keys the state does not have
    missing: List[str]
    #: keys under ``strip`` the model does not have
    unexpected: List[str]
    #: (model key, checkpoint shape, model shape) where they differ
    shapes: List[Shape]
    #: checkpoint keys outside ``strip``, not read (another part of the
    #: checkpoint, e.g. a distiller's aux head when its student is a teacher)
    ignored: List[str]

    def fits(self, missing_ok=frozenset(), ignored_ok: bool = False) -> bool:
        """Nothing unexpected, no shape differs, only ``missing_ok`` keys
        missing and, unless ``ignored_ok``, every checkpoint key read."""
        return not (self.unexpected or self.shapes
                    or set(self.missing) - set(missing_ok)
                    or (self.ignored and not ignored_ok))

    def describe(self, ignored_ok: bool = False) -> str:
        """What does not fit, in the words every reader's error uses."""
        parts = []
        if self.missing:
            parts.append(f'{len(self.missing)} of the model\'s '
                         f'{self.num_model_keys} weights are not in it '
                         f'(e.g. {self.missing[:3]})')
        unexpected = self.unexpected + ([] if ignored_ok else self.ignored)
        if unexpected:
            parts.append(f'{len(unexpected)} of its keys are not in the '
                         f'model (e.g. {unexpected[:3]})')
        if self.shapes:
            examples = ', '.join(f'{k}: checkpoint {a} vs model {b}'
                                 for k, a, b in self.shapes[:3])
            parts.append(f'{len(self.shapes)} shapes differ (e.g. '
                         f'{examples})')
        return '; '.join(parts)


def _read_as(state: Dict[str, torch.Tensor], own: Dict[str, torch.Tensor],
             strip: str, add: str) -> KeyMatch:
    mapped, ignored = {}, []
    for key, value in state.items():
        if key.startswith(strip):
            mapped[add + key[len(strip):]] = value
        else:
            ignored.append(key)
    shapes = [(k, tuple(v.shape), tuple(own[k].shape))
              for k, v in mapped.items() if k in own and hasattr(v, 'shape')
              and tuple(v.shape) != tuple(own[k].shape)]
    return KeyMatch(mapped, strip, add, len(own),
                    sorted(set(own) - set(mapped)),
                    sorted(set(mapped) - set(own)), shapes, sorted(ignored))


def _misfit(match: KeyMatch) -> int:
    return len(match.missing) + len(match.unexpected) + len(match.shapes) + \
        len(match.ignored)


def match_keys(state: Dict[str, torch.Tensor], model: nn.Module,
               prefixes: Sequence[str] = KEY_PREFIXES) -> KeyMatch:
    """``state`` read as ``model``'s weights: of every (strip, add) pair of
    ``prefixes``, the one leaving the fewest keys missing, unexpected, of
    another shape or unread (the bare reading first among equals).  Only
    the keys and shapes are compared: mapped tensors are not read."""
    own = model.state_dict()
    candidates = (_read_as(state, own, strip, add)
                  for strip in prefixes
                  if not strip or any(k.startswith(strip) for k in state)
                  for add in prefixes)
    return min(candidates, key=_misfit)


def mismatch_error(what: str, path: str, target: str, match: KeyMatch,
                   fix: str, ignored_ok: bool = False) -> ValueError:
    """The error of every reader whose checkpoint does not fit: ``what``
    and ``path`` name the file, ``target`` the model it was read into,
    ``fix`` what to do."""
    return ValueError(f'{what} {path} does not fit {target}: '
                      f'{match.describe(ignored_ok)}. {fix}')
