"""``--cfg-options`` checked against the config before it is merged: a key
one typo away from an existing one, or a model argument the module type
does not take, is named with the fix; and parsed without losing the
spaces of a single value (``CfgOptionsAction``)."""
import difflib
import inspect

from mmengine.config import Config, DictAction
from mmengine.registry import MODELS


class CfgOptionsAction(DictAction):
    """MMEngine's ``DictAction`` (``KEY=VALUE``, lists as ``KEY=a,b`` or
    ``KEY=[a,b]``), except that a single value keeps its spaces: MMEngine's
    removes every space from every value, so
    ``model.teacher_ckpt=/data/my runs/t.pth`` became ``/data/myruns/t.pth``
    and the run looked for a file that does not exist.  Values with brackets
    or commas are lists and parse as MMEngine parses them."""

    @staticmethod
    def _parse_iterable(val: str):
        text = val.strip('\'"')
        if ',' in text or text.strip().startswith(('[', '(')):
            return DictAction._parse_iterable(val)
        return DictAction._parse_int_float_bool(text)


def check_cfg_options(cfg: Config, options: dict) -> None:
    """Reject an override whose key is not in the config but is one typo away
    from a key that is (``model.teacher_ckp`` for ``model.teacher_ckpt``),
    and a new key under ``model`` that is not an argument of the module
    type it would be passed to; genuinely new keys (arguments left at their
    defaults) pass."""
    tree = cfg.to_dict()
    for full_key in options:
        parent, _, leaf = full_key.rpartition('.')
        _check_parse_time_variable(tree, full_key)
        node = tree
        parts = parent.split('.') if parent else []
        for i, part in enumerate(parts):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and \
                    int(part) < len(node):
                node = node[int(part)]
            else:
                close = difflib.get_close_matches(
                    part, list(node) if isinstance(node, dict) else [], 1,
                    0.8)
                if close:
                    raise KeyError(
                        f'--cfg-options {full_key}: the config has no '
                        f'{part!r}; did you mean {close[0]!r}?')
                _check_argument(cfg, full_key, '.'.join(parts[:i]), node,
                                part)
                break
        else:
            if isinstance(node, dict) and leaf not in node:
                close = difflib.get_close_matches(leaf, list(node), 1, 0.8)
                if close and not _takes(cfg, full_key, node, leaf):
                    where = parent or 'the top level'
                    raise KeyError(
                        f'--cfg-options {full_key}: {where} has no key '
                        f'{leaf!r}; did you mean {close[0]!r}?')
                _check_argument(cfg, full_key, parent, node, leaf)


def _check_parse_time_variable(tree: dict, key: str) -> None:
    """A top-level variable that the model also has (``teacher_ckpt``,
    ``teacher`` of the teacher bases) was copied into ``model`` when the
    config was parsed: overriding the variable would change nothing."""
    model = tree.get('model')
    if '.' in key or key not in tree or not isinstance(model, dict) or \
            key not in model:
        return
    raise KeyError(
        f'--cfg-options {key}: the top-level {key!r} is read only while the '
        f'config is parsed (it was copied into model.{key} then), so '
        f'overriding it changes nothing. Override model.{key} instead.')


def _model_type(cfg: Config, full_key: str, node):
    """The class (or factory) a model config ``node`` builds, or None."""
    if not full_key.startswith('model.') or not isinstance(node, dict):
        return None
    cls = node.get('type')
    if isinstance(cls, str):
        # the registry the Runner builds from: the default scope's
        with MODELS.switch_scope_and_registry(
                cfg.get('default_scope')) as registry:
            cls = registry.get(cls)
    return cls if callable(cls) else None


def _takes(cfg: Config, full_key: str, node, name: str) -> bool:
    """Whether the model config ``node`` builds a type that has an argument
    ``name`` of its own (then a key close to it is no typo)."""
    cls = _model_type(cfg, full_key, node)
    return cls is not None and name in inspect.signature(cls).parameters


def _check_argument(cfg: Config, full_key: str, where: str, node,
                    name: str) -> None:
    """A new key ``name`` in a model config ``node`` of a registered type
    must be an argument of that type (else the build fails with "unexpected
    keyword argument" and no list of the valid ones)."""
    cls = _model_type(cfg, full_key, node)
    if cls is None:  # not a class or a registered factory function
        return
    params = inspect.signature(cls).parameters
    if name in params or any(p.kind == p.VAR_KEYWORD
                             for p in params.values()):
        return
    valid = [n for n, p in params.items()
             if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    raise KeyError(
        f'--cfg-options {full_key}: {name!r} is not an argument of {where} '
        f'({cls.__name__}); its arguments are {", ".join(valid)}')
