"""An override config: a few keys written over a base config file, as the
ablation's variants and the sweep's cells are written, so that each run can
be rerun by hand with ``python tools/train.py <that file>``."""
from typing import List, Sequence


def override_config(base: str, comments: Sequence[str], model: dict,
                    optim_wrapper: str, custom_hooks: List[dict], seed: int,
                    extra: str = '') -> str:
    """The text of a config inheriting ``base`` (a file path) with ``model``
    merged into the base's model, the optimizer wrapper type, the custom
    hooks (the whole list) and the seed; ``comments`` first, one per line,
    and ``extra`` (config lines) last."""
    return (''.join(f'# {line}\n' for line in comments) +
            f'_base_ = {base!r}\n'
            f'model = {model!r}\n'
            f'optim_wrapper = dict(type={optim_wrapper!r})\n'
            f'custom_hooks = {custom_hooks!r}\n'
            f'{extra}'
            f'randomness = dict(seed={seed})\n')
