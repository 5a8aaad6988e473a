"""``--resume``: the checkpoint is read and compared with this config's model
and optimizer before MMEngine resumes from it.  MMEngine loads the weights
of another model with a warning only and then fails in torch ("loaded state
dict contains a parameter group that doesn't match the size of optimizer's
group"); a truncated file fails with "failed reading zip archive" and no
path."""
from typing import Optional

from mmengine.config import Config
from mmengine.optim import OptimWrapper

from ..utils.model import unwrapped_model
from .keys import MMENGINE_PREFIXES, match_keys, mismatch_error
from .read import read_checkpoint


def check_resume(runner, path: Optional[str], named_by: str = '') -> None:
    """Raise naming ``path``, the mismatch and the fix when it cannot be
    resumed by ``runner``.  ``named_by``: where the path came from (the
    work dir's ``last_checkpoint``)."""
    if path is None:  # nothing to resume: MMEngine starts afresh, says so
        return
    what = f'--resume checkpoint{named_by}'
    # mmap: a look at keys and shapes, the tensors are not read
    ckpt = read_checkpoint(path, what, mmap=True)
    fresh = (f'To start a new run from its weights instead, drop --resume '
             f'and pass --cfg-options load_from={path}.')
    if 'state_dict' not in ckpt or 'meta' not in ckpt:
        raise ValueError(
            f'{what} {path} is not a training checkpoint of tools/train.py '
            f'(no state_dict / meta: a teacher or an exported student?). '
            f'{fresh}')
    # MMEngine resumes with its own key handling: only its prefixes count
    match = match_keys(ckpt['state_dict'], unwrapped_model(runner),
                       MMENGINE_PREFIXES)
    if not match.fits():
        raise mismatch_error(
            what, path, f'the model of {runner.cfg.filename}', match,
            'It was written for another model: resume with the config that '
            'wrote it (a copy is in the work dir it was saved in). ' + fresh
            + ' Add --partial-load to start from the weights that fit.')
    saved_groups = ckpt.get('optimizer', {}).get('param_groups', [])
    saved = [len(g['params']) for g in saved_groups]
    if not saved:
        return
    # built now instead of in runner.train(), which then reuses it
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    if not isinstance(runner.optim_wrapper, OptimWrapper):
        return
    own = [len(g['params'])
           for g in runner.optim_wrapper.optimizer.param_groups]
    if saved != own:
        raise ValueError(
            f'{what} {path}: its optimizer has parameter groups of {saved} '
            f'tensors, the optimizer of {runner.cfg.filename} {own}: the '
            'checkpoint was written with another optimizer set-up '
            '(optim_wrapper, paramwise_cfg) or model. Resume with the config '
            f'that wrote it. {fresh}')
    check_optimizer_type(runner, what, path, ckpt, saved_groups[0], fresh)


def _hyperparameters(group: dict) -> set:
    """The names of a parameter group's numeric settings (momentum, betas,
    eps, ...), which say which optimizer type it belongs to.  Boolean
    options (foreach, maximize, ...) are left out: torch adds new ones over
    versions, and an older checkpoint without one still resumes."""
    return {k for k, v in group.items() if k != 'params'
            and not isinstance(v, bool) and isinstance(v, (int, float, tuple))}


def _saved_optimizer_type(ckpt: dict) -> str:
    """``optim_wrapper.optimizer.type`` of the config the checkpoint was
    saved with (MMEngine keeps it in ``meta.cfg``), for the error only."""
    try:
        cfg = Config.fromstring(ckpt['meta']['cfg'], '.py')
        return str(cfg.optim_wrapper.optimizer.type).rsplit('.', 1)[-1]
    except Exception:  # an old or hand-made checkpoint: the error says less
        return 'another optimizer'


def check_optimizer_type(runner, what: str, path: str, ckpt: dict,
                         saved_group: dict, fresh: str) -> None:
    """Raise when the checkpoint's optimizer state is of another optimizer
    type than the config's: torch loads it without a word, and the first
    step fails with a bare ``KeyError: 'step'`` (SGD's state has no step
    count for AdamW) or silently drops the momentum."""
    optimizer = runner.optim_wrapper.optimizer
    lacking = sorted(set(_hyperparameters(optimizer.defaults))
                     - set(saved_group))
    if not lacking:
        return
    raise ValueError(
        f'{what} {path} was saved with {_saved_optimizer_type(ckpt)} '
        f'(its parameter groups have no {lacking}), {runner.cfg.filename} '
        f'configures {type(optimizer).__name__} '
        f'({type(runner.optim_wrapper).__name__}): an optimizer state '
        'cannot be resumed by another optimizer type. Resume with the '
        'optimizer it was saved with (optim_wrapper.optimizer of the config '
        f'that wrote it). {fresh}')
