"""The methods of the paper's table, each a transformation of a teacher /
student pair's config, defined once with its official hyper-parameters and
where they come from.

A pair's config is a DHKD config of ``configs/dhkd/`` (student, teacher, its
checkpoint, the learning rate of the student's family); a method's override
config inherits it and replaces the loss of each head, the aux head, the
optimizer wrapper and the distillation hooks, so that every cell of a sweep
can be rerun by hand with ``python tools/train.py <override config>``.
"""
import copy
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from mmengine.config import Config

from .overrides import override_config

#: the hooks that exist only to distil: a run without a teacher drops them
DISTILL_HOOKS = ('DHKDHook', 'DistillScheduleHook')


@dataclass(frozen=True)
class Method:
    """``task_weight``: the weight of CE on the main head; ``distill``: the
    distillation loss config of each head; ``per_pair``: by pair name, the
    loss arguments the method's authors used for that pair instead;
    ``warmup_epochs``: a linear warm-up of the distillation loss (DKD's),
    in epochs of the 240-epoch CIFAR recipe: a pair whose schedule is
    shorter gets the same fraction of its own (at least one epoch);
    ``source``: where the hyper-parameters come from; ``aux_kind``: the aux
    head's shape ('linear' / 'nonlinear'), None for the pair config's."""
    title: str
    task_weight: float
    distill: Dict[str, dict]
    source: str
    aux_head: bool = False
    grad_align: bool = False
    warmup_epochs: int = 0
    per_pair: Dict[str, Dict[str, dict]] = field(default_factory=dict)
    aux_kind: Optional[str] = None

    def losses_for(self, pair: str) -> Dict[str, dict]:
        """The distillation losses by head for ``pair``."""
        losses = copy.deepcopy(self.distill)
        for head, args in self.per_pair.get(pair, {}).items():
            losses[head].update(args)
        return losses


_BINARY_KL_NORM = dict(type='BinaryKLNormLoss', temperature=2.0,
                       loss_weight=1.0)

METHODS: Dict[str, Method] = {
    'ce': Method(
        'CE student', 1.0, {},
        'the student trained on the labels alone, by the same recipe'),
    'kd': Method(
        'KD', 0.1,
        {'main': dict(type='KDLoss', temperature=4.0, loss_weight=0.9)},
        "mdistiller's CFG.KD (T 4, CE 0.1, KD 0.9), as CRD's scripts"),
    'dkd': Method(
        'DKD', 1.0,
        {'main': dict(type='DKDLoss', temperature=4.0, alpha=1.0, beta=8.0)},
        "mdistiller's CFG.DKD (CE 1, alpha 1, beta 8, T 4, 20-epoch "
        'warm-up) and the beta of its configs/cifar100/dkd/<pair>.yaml',
        warmup_epochs=20,
        per_pair={pair: {'main': dict(beta=beta)} for pair, beta in (
            ('res56_res20', 2.0), ('res110_res32', 2.0),
            ('vgg13_vgg8', 6.0), ('vgg13_mv2', 6.0),
            ('wrn40_2_wrn16_2', 6.0), ('wrn40_2_wrn40_1', 6.0))}),
    'kd_ls': Method(
        'KD+LS', 0.1,
        {'main': dict(type='KDLoss', temperature=2.0, loss_weight=9.0,
                      logit_stand=True)},
        "logit-standardization-KD: its CFG.KD (CE 0.1) with --logit-stand "
        '--base-temp 2 --kd-weight 9, and per pair the base temperature and '
        'KD weight its README names in the log of each published number',
        per_pair={pair: {'main': dict(temperature=t, loss_weight=w)}
                  for pair, t, w in (('vgg13_vgg8', 3.0, 9.0),
                                     ('vgg13_mv2', 3.0, 9.0),
                                     ('res50_mv2', 3.0, 1.0))}),
    'dist': Method(
        'DIST', 1.0,
        {'main': dict(type='DISTLoss', tau=4.0, beta=1.0, gamma=1.0,
                      loss_weight=2.0)},
        "image_classification_sota's dist_cifar.yaml (kd 'dist_t4': tau 4, "
        'beta 1, gamma 1, DIST weight 2, CE 1)'),
    'dhkd': Method(
        'DHKD', 1.0, {'aux': _BINARY_KL_NORM},
        'configs/dhkd/ (CE on the main head, BinaryKLNorm T 2 on a '
        'nonlinear aux head) without gradient alignment',
        aux_head=True),
    'dhkd_ga': Method(
        'DHKD+GA', 1.0, {'aux': _BINARY_KL_NORM},
        'configs/dhkd/ as shipped (the reference quick start)',
        aux_head=True, grad_align=True),
    'dhkd_linear': Method(
        'DHKD, linear aux head', 1.0, {'aux': _BINARY_KL_NORM},
        "DHKD with a linear aux head, no gradient alignment (the reference "
        "code's default --dual_head --linear)",
        aux_head=True, aux_kind='linear'),
    'dhkd_kd': Method(
        'DHKD+KD', 0.1, {'main': dict(type='KDLoss', temperature=4.0,
                                      loss_weight=0.9),
                         'aux': _BINARY_KL_NORM},
        "the kd method's main head (CE 0.1 + KD T 4 0.9, mdistiller's "
        "CFG.KD) plus DHKD's aux head (BinaryKLNorm T 2, 1), no gradient "
        'alignment',
        aux_head=True),
    'one_head_both': Method(
        'CE+BinaryKLNorm, one head', 1.0, {'main': _BINARY_KL_NORM},
        "DHKD's losses on one shared head (the paper's motivating "
        'failure)'),
}


#: the schedule length the methods' warm-up epochs are given for
RECIPE_EPOCHS = 240


def warmup_for(method: Method, max_epochs: int) -> int:
    """``method``'s warm-up epochs for a schedule of ``max_epochs``."""
    if not method.warmup_epochs or max_epochs >= RECIPE_EPOCHS:
        return method.warmup_epochs
    return max(1, round(method.warmup_epochs * max_epochs / RECIPE_EPOCHS))


def method_hooks(method: Method, pair_hooks: List[dict],
                 max_epochs: int = RECIPE_EPOCHS) -> List[dict]:
    """The pair config's custom hooks for ``method``: without the
    distillation hooks, then DKD's warm-up where the method has one (for a
    schedule of ``max_epochs``)."""
    hooks = [dict(h) for h in pair_hooks if h.get('type') not in
             DISTILL_HOOKS]
    if method.distill:
        hooks.insert(0, dict(type='DHKDHook'))
    if method.warmup_epochs:
        hooks.insert(1, dict(type='DistillScheduleHook',
                             warmup_epochs=warmup_for(method, max_epochs)))
    return hooks


def method_config(name: str, pair: str, pair_config: str, seed: int,
                  header: str = '') -> str:
    """The text of the override config of ``pair_config`` (a file path) that
    trains the pair with method ``name`` under ``seed``; ``header`` (e.g. the
    command that runs it) goes first as comments."""
    if name not in METHODS:
        raise KeyError(f'unknown method {name!r}; choose from '
                       f'{sorted(METHODS)}')
    method = METHODS[name]
    cfg = Config.fromfile(pair_config)
    if cfg.model.get('type') != 'ClsDistiller':
        raise ValueError(
            f'pair {pair!r}: {pair_config} is not a classification '
            "distillation config (model.type='ClsDistiller'); name a config "
            'of configs/dhkd/, e.g. configs/dhkd/cifar100_res32x4_res8x4.py')
    aux_kind: Optional[str] = None
    if method.aux_head:
        aux_kind = method.aux_kind or cfg.model.student.get(
            'aux_head') or 'nonlinear'
    model = dict(
        student=dict(aux_head=aux_kind),
        task_losses=dict(_delete_=True, main=dict(
            type='CELoss', loss_weight=method.task_weight)),
        distill_losses=dict(_delete_=True, **method.losses_for(pair)),
        eval_aux=method.aux_head)
    wrapper = 'GradAlignOptimWrapper' if method.grad_align else \
        'OptimWrapper'
    hooks = method_hooks(method, cfg.get('custom_hooks', []),
                         cfg.train_cfg.get('max_epochs', RECIPE_EPOCHS))
    return override_config(
        pair_config, header.splitlines() + [
            f'{method.title} on pair {pair}, seed {seed}; '
            f'hyper-parameters: {method.source}'],
        model, wrapper, hooks, seed)
