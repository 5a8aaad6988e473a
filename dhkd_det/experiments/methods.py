"""The methods a sweep trains, each a name, a title and its config in
``configs/<method>/``, the one place that holds its losses and
hyper-parameters.

A sweep's cell is a pair (a config of ``configs/dhkd/``: the student, the
teacher and its checkpoint, the data, the schedule and the optimizer of the
student's family) trained by a method.  Its override config is built by one
rule:

- the method's config for the pair is ``config_for(pair)``: the method's
  own config for that pair where it has one (its reference config's path
  with the reference pair's name, ``REFERENCE_PAIR``, replaced by the
  pair's, e.g. ``configs/dkd/cifar100_res56_res20.py``), else its reference
  config (written for ``res32x4_res8x4``);
- from that config the cell takes the *method keys* (``method_parts``):
  ``model.task_losses``, ``model.distill_losses``, ``model.student.aux_head``,
  ``model.eval_aux``, ``optim_wrapper.type`` and the distillation hooks
  (``DISTILL_HOOKS``, in their order; a ``DistillScheduleHook``'s
  ``warmup_epochs`` scaled to the pair's schedule when it is shorter than
  the method config's, at least one epoch);
- everything else comes from the pair's config.

In other words: the method's config with the pair's student, teacher and
recipe swapped in.  Each cell can be rerun by hand with ``python
tools/train.py <override config>``.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional

from mmengine.config import Config
from mmengine.registry import MODELS

from ..utils.paths import CONFIG_ROOT
from .overrides import override_config

#: the hooks that exist only to distil: a run without a teacher drops them
DISTILL_HOOKS = ('DHKDHook', 'DistillScheduleHook')
#: the pair every method's reference config is written for
REFERENCE_PAIR = 'res32x4_res8x4'
CONFIGS = osp.join(CONFIG_ROOT, 'configs')


@dataclass(frozen=True)
class Method:
    """``config``: the method's reference config, relative to ``configs/``
    (or an absolute path); ``source``: where its hyper-parameters come from
    (its config's header says more)."""
    title: str
    config: str
    source: str

    @property
    def config_path(self) -> str:
        return osp.join(CONFIGS, self.config)

    def config_for(self, pair: str) -> str:
        """The method's own config for ``pair`` if it has one, else its
        reference config."""
        ref = self.config_path
        name = osp.basename(ref)
        if REFERENCE_PAIR in name and pair != REFERENCE_PAIR:
            own = osp.join(osp.dirname(ref),
                           name.replace(REFERENCE_PAIR, pair))
            if osp.isfile(own):
                return own
        return ref


METHODS: Dict[str, Method] = {
    'ce': Method(
        'CE student', 'ce/cifar100_resnet8x4.py',
        'the student trained on the labels alone, by the same recipe'),
    'kd': Method(
        'KD', 'kd/cifar100_res32x4_res8x4.py',
        "mdistiller's CFG.KD, as CRD's scripts"),
    'dkd': Method(
        'DKD', 'dkd/cifar100_res32x4_res8x4.py',
        "mdistiller's CFG.DKD (with its warm-up) and the beta of "
        'its configs/cifar100/dkd/<pair>.yaml'),
    'kd_ls': Method(
        'KD+LS', 'kd/cifar100_res32x4_res8x4_ls.py',
        "logit-standardization-KD: its CFG.KD with --logit-stand "
        '--base-temp --kd-weight, per pair as its README names them in the '
        'log of each published number'),
    'dist': Method(
        'DIST', 'dist/cifar100_res32x4_res8x4.py',
        "image_classification_sota's dist_cifar.yaml (kd 'dist_t4')"),
    'dhkd': Method(
        'DHKD', 'dhkd/cifar100_res32x4_res8x4_no_ga.py',
        'configs/dhkd/ without gradient alignment'),
    'dhkd_ga': Method(
        'DHKD+GA', 'dhkd/cifar100_res32x4_res8x4.py',
        'configs/dhkd/ as shipped (the reference quick start)'),
    'dhkd_linear': Method(
        'DHKD, linear aux head', 'dhkd/cifar100_res32x4_res8x4_linear.py',
        "DHKD with a linear aux head, no gradient alignment (the reference "
        "code's default --dual_head --linear)"),
    'dhkd_kd': Method(
        'DHKD+KD', 'dhkd/cifar100_res32x4_res8x4_kd_main.py',
        "the kd method's main head plus DHKD's aux head, no gradient "
        'alignment'),
    'one_head_both': Method(
        'CE+BinaryKLNorm, one head',
        'one_head_both/cifar100_res32x4_res8x4.py',
        "DHKD's losses on one shared head (the paper's motivating "
        'failure)'),
}


def title_of(name: str, methods: Optional[Dict[str, Method]] = None) -> str:
    """The title of method ``name`` (of ``methods``, default ``METHODS``);
    the name itself for a method that has none."""
    method = (methods or METHODS).get(name)
    return method.title if method else name


def method_from_config(name: str, config: str) -> Method:
    """A method a sweep file defines by its config (``methods = dict(name=
    config file)``), titled by its name."""
    return Method(name, osp.abspath(config), config)


@dataclass
class MethodParts:
    """The method keys of a method's config (see the module's docstring)."""
    task_losses: Dict[str, dict]
    distill_losses: Dict[str, dict]
    aux_head: Optional[str]
    eval_aux: bool
    optim_wrapper: str
    hooks: List[dict]
    max_epochs: Optional[int]
    imports: List[str]


def _plain(value):
    return value.to_dict() if hasattr(value, 'to_dict') else value


def method_parts(name: str, config: str) -> MethodParts:
    """The method keys of ``config``, method ``name``'s config; a named
    error where a key is missing or a loss type is not registered."""
    cfg = Config.fromfile(config)
    model = cfg.get('model') or {}
    where = f'method {name!r} ({osp.relpath(config, CONFIG_ROOT)})'
    if 'task_losses' not in model:
        raise KeyError(
            f'{where}: no model.task_losses; a method config writes out the '
            "label losses, e.g. task_losses=dict(main=dict(type='CELoss', "
            'loss_weight=1.0))')
    losses = {'task_losses': _plain(model.task_losses),
              'distill_losses': _plain(model.get('distill_losses') or {})}
    for key, by_head in losses.items():
        for head, loss in by_head.items():
            kind = loss.get('type') if isinstance(loss, dict) else None
            if not isinstance(kind, str) or MODELS.get(kind) is None:
                raise KeyError(
                    f'{where}: model.{key}.{head} has type {kind!r}, which '
                    'is not a registered loss; fix the spelling or import '
                    'the module that registers it (custom_imports)')
    hooks = [dict(_plain(h)) for h in cfg.get('custom_hooks', [])
             if h.get('type') in DISTILL_HOOKS]
    imports = list((cfg.get('custom_imports') or {}).get('imports', []))
    return MethodParts(
        task_losses=losses['task_losses'],
        distill_losses=losses['distill_losses'],
        aux_head=(model.get('student') or {}).get('aux_head'),
        eval_aux=bool(model.get('eval_aux', False)),
        optim_wrapper=(cfg.get('optim_wrapper') or {}).get(
            'type', 'OptimWrapper'),
        hooks=hooks,
        max_epochs=cfg.get('train_cfg', {}).get('max_epochs'),
        imports=imports)


def scaled_epochs(epochs: int, method_epochs: Optional[int],
                  max_epochs: Optional[int]) -> int:
    """``epochs`` of a method config's schedule of ``method_epochs``, for
    a pair's schedule of ``max_epochs``: the same fraction (at least one
    epoch) when that is shorter, unchanged otherwise."""
    if not epochs or not method_epochs or not max_epochs or \
            max_epochs >= method_epochs:
        return epochs
    return max(1, round(epochs * max_epochs / method_epochs))


def method_hooks(parts: MethodParts, pair_hooks: List[dict],
                 max_epochs: Optional[int]) -> List[dict]:
    """The cell's custom hooks: the method's distillation hooks (warm-up
    scaled to a pair schedule of ``max_epochs``), then the pair config's
    other hooks."""
    hooks = []
    for hook in parts.hooks:
        hook = dict(hook)
        if 'warmup_epochs' in hook:
            hook['warmup_epochs'] = scaled_epochs(
                hook['warmup_epochs'], parts.max_epochs, max_epochs)
        hooks.append(hook)
    return hooks + [dict(h) for h in pair_hooks
                    if h.get('type') not in DISTILL_HOOKS]


def method_config(name: str, pair: str, pair_config: str, seed: int,
                  header: str = '',
                  method: Optional[Method] = None) -> str:
    """The text of the override config of ``pair_config`` (a file path) that
    trains the pair with method ``name`` (``method``, default
    ``METHODS[name]``) under ``seed``; ``header`` (e.g. the command that
    runs it) goes first as comments."""
    if method is None:
        if name not in METHODS:
            raise KeyError(f'unknown method {name!r}; choose from '
                           f'{sorted(METHODS)}')
        method = METHODS[name]
    source = method.config_for(pair)
    parts = method_parts(name, source)
    cfg = Config.fromfile(pair_config)
    if cfg.model.get('type') != 'ClsDistiller':
        raise ValueError(
            f'pair {pair!r}: {pair_config} is not a classification '
            "distillation config (model.type='ClsDistiller'); name a config "
            'of configs/dhkd/, e.g. configs/dhkd/cifar100_res32x4_res8x4.py')
    model = dict(
        student=dict(aux_head=parts.aux_head),
        task_losses=dict(_delete_=True, **parts.task_losses),
        distill_losses=dict(_delete_=True, **parts.distill_losses),
        eval_aux=parts.eval_aux)
    hooks = method_hooks(parts, cfg.get('custom_hooks', []),
                         cfg.train_cfg.get('max_epochs'))
    pair_imports = list((cfg.get('custom_imports') or {}).get('imports', []))
    extra = ''
    if any(i not in pair_imports for i in parts.imports):
        imports = pair_imports + [i for i in parts.imports
                                  if i not in pair_imports]
        extra = (f'custom_imports = dict(imports={imports!r}, '
                 'allow_failed_imports=False)\n')
    return override_config(
        pair_config, header.splitlines() + [
            f'{method.title} on pair {pair}, seed {seed}; losses and '
            f'hyper-parameters: {osp.relpath(source, CONFIG_ROOT)} '
            f'({method.source})'],
        model, parts.optim_wrapper, hooks, seed, extra)

