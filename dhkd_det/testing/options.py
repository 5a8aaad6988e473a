"""Nested config overrides in the ``--cfg-options`` form."""
from typing import Dict


def dotted(tree: dict, prefix: str = '') -> Dict[str, object]:
    """``{'a': {'b': 1}} -> {'a.b': 1}``: the form ``--cfg-options`` and
    ``Config.merge_from_dict`` take, merged key by key, so that the rest of
    each nested dict of the config stays (an empty dict is a value)."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            out.update(dotted(value, f'{prefix}{key}.'))
        else:
            out[f'{prefix}{key}'] = value
    return out
