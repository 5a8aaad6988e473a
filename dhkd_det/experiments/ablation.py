"""The experiment that decides DHKD's premise: the same student, teacher,
seed and schedule trained with the probability-level loss (CE) alone, the
logit-level loss alone, both on one head, and both on two heads (DHKD),
optionally with gradient alignment.

Each variant is an override config of the given classification config,
trained by the run launcher of ``dhkd_det.apis`` (in this process or through
``tools/train.py``); the merged config of each run stays in its work dir, so
a row of the table can be rerun by hand.
"""
import copy
import json
import os
import os.path as osp
import time
from typing import Callable, Dict, List, Optional, Sequence

from mmengine.config import Config

from ..apis import train_in_process, train_in_subprocess
from ..analysis.panels import GRAD_GROUPS, overview_panels
from ..analysis.curves import plot_panels, plot_runs
from ..analysis.runs import Run, read_run
from ..analysis.summary import markdown_table, mean_std
from .overrides import override_config

#: name -> (task losses on, logit-level loss on, aux head, gradient alignment)
VARIANTS = {
    'ce_only': ('main', None, False, False),
    'logit_only': (None, 'main', False, False),
    'one_head_both': ('main', 'main', False, False),
    'dhkd': ('main', 'aux', True, False),
    'dhkd_ga': ('main', 'aux', True, True),
}
DEFAULT_VARIANTS = ('ce_only', 'logit_only', 'one_head_both', 'dhkd')
#: earlier names -> today's (the sweep's name for one head with both losses)
RENAMED = {'both_one_head': 'one_head_both'}
#: iterations between gradient measurements, and between the logger's
#: records (equal, so that every logged cosine is a fresh measurement)
GRAD_INTERVAL = 20
DIAGNOSTIC_HOOKS = [dict(type='NeuralCollapseHook'),
                    dict(type='GradDiagnosticsHook', interval=GRAD_INTERVAL)]


def logit_loss_of(cfg: Config) -> dict:
    """The config's distillation loss (on 'aux' or else 'main')."""
    model = cfg.model
    losses = model.get('distill_losses') or {}
    if model.get('type') != 'ClsDistiller' or not losses:
        raise ValueError(
            'ablate_heads needs a classification distillation config '
            "(model.type='ClsDistiller' with model.distill_losses), e.g. "
            'configs/dhkd/cifar100_res32x4_res8x4.py')
    return copy.deepcopy(dict(losses.get('aux') or losses.get('main')))


def variant_config(base_file: str, cfg: Config, variant: str,
                   seed: int) -> str:
    """The text of an override config of ``base_file`` for ``variant``."""
    variant = RENAMED.get(variant, variant)
    if variant not in VARIANTS:
        raise KeyError(f'unknown variant {variant!r}; choose from '
                       f'{sorted(VARIANTS)}')
    task_head, logit_head, dual, ga = VARIANTS[variant]
    task = dict(cfg.model.get('task_losses') or
                dict(main=dict(type='CELoss')))['main']
    aux_kind = cfg.model.student.get('aux_head') or 'nonlinear'
    model = dict(
        student=dict(aux_head=aux_kind if dual else None),
        task_losses=dict(_delete_=True, **(
            {task_head: dict(task)} if task_head else {})),
        distill_losses=dict(_delete_=True, **(
            {logit_head: logit_loss_of(cfg)} if logit_head else {})),
        eval_aux=dual)
    hooks = [h for h in cfg.get('custom_hooks', []) if h.get('type') not in
             [d['type'] for d in DIAGNOSTIC_HOOKS]]
    if not logit_head:  # no teacher to load, no distillation to schedule
        hooks = [h for h in hooks if h.get('type') not in
                 ('DHKDHook', 'DistillScheduleHook')]
    # the cosine needs both losses: with one of them it would read 0
    hooks += [h for h in DIAGNOSTIC_HOOKS if task_head and logit_head or
              h['type'] != 'GradDiagnosticsHook']
    wrapper = 'GradAlignOptimWrapper' if ga else 'OptimWrapper'
    return override_config(
        base_file, [f'{variant} of {base_file} (written by ablate_heads.py)'],
        model, wrapper, hooks, seed,
        extra=f'default_hooks = dict(logger=dict(interval={GRAD_INTERVAL}))\n')


def _last(run: Run, part: str, key: str):
    _, values = run.series(part, key)
    return values[-1] if values else None


def ablation_rows(runs: Dict[str, Sequence[Run]]) -> List[Dict[str, str]]:
    """One row per variant: top-1 (last and best validation, mean ± std
    over seeds), NC1 / NC2 at the last validation, and where the gradient
    diagnostics were logged the last measured cosine per group and the
    fraction of measured steps whose cosine was negative (``conflict_*``).
    The aux head is left out: the task loss never reaches it, so its cosine
    is 0 by construction."""
    rows = []
    for variant, seeds in runs.items():
        row = dict(variant=variant, seeds=str(len(seeds)))
        row['top-1 last'] = mean_std([_last(r, 'val', 'top1')
                                       for r in seeds])
        row['top-1 best'] = mean_std([
            max(r.series('val', 'top1')[1], default=None) for r in seeds])
        for key in ('nc1', 'nc2_etf'):
            row[key] = mean_std([_last(r, 'val', key) for r in seeds])
        logged = {k for r in seeds for k in r.keys('train')}
        for kind in ('cos', 'conflict'):
            for group in GRAD_GROUPS:
                key = f'grad/{kind}_{group}'
                if key in logged:
                    row[key[len('grad/'):]] = mean_std(
                        [_last(r, 'train', key) for r in seeds])
        rows.append(row)
    return rows


#: the panels of the ablation's one-figure overview (plots/ablation.png)
OVERVIEW_PANELS = overview_panels('top1', ('val', 'nc1'))


def run_ablation(config: str, out: str, variants: Sequence[str],
                 seeds: Sequence[int], options: Optional[dict] = None,
                 in_process: bool = False,
                 say: Callable[[str], None] = print,
                 title: str = '') -> dict:
    """Writes every variant's override config of ``config`` under
    ``out/<variant>/seed_<seed>/``, trains each with ``options`` (MMEngine
    ``--cfg-options`` keys, for every run) in a child ``tools/train.py``
    (its console output in the work dir's ``train_stdout.log``; a failed run
    raises ``RunFailed`` with its tail) or with ``in_process`` in this
    process, a ``ProgressHook`` line per epoch on this console; and writes
    ``out/ablation.md``, ``out/ablation.json``, ``out/plots/*.png`` (every
    group of curves, and ``ablation.png``: top-1, head and backbone
    gradient cosines, NC1 side by side, titled ``title`` or the config's
    name).  A run's colour is the same in every panel and figure.

    Returns dict(rows=..., table=..., figures=[...], overview=path).
    """
    base = osp.abspath(config)
    cfg = Config.fromfile(base)
    runs: Dict[str, List[Run]] = {}
    total = len(variants) * len(seeds)
    start = time.time()
    for variant in variants:
        runs[variant] = []
        for seed in seeds:
            work_dir = osp.join(out, variant, f'seed_{seed}')
            os.makedirs(work_dir, exist_ok=True)
            override = osp.join(work_dir, f'{variant}.py')
            with open(override, 'w') as f:
                f.write(variant_config(base, cfg, variant, seed))
            done = sum(len(r) for r in runs.values())
            say(f'[{done + 1}/{total}] {variant}, seed {seed} '
                f'({time.time() - start:.0f} s so far)')
            label = variant if len(seeds) == 1 else f'{variant} seed {seed}'
            if in_process:
                train_in_process(override, options, work_dir, label,
                                 [dict(type='ProgressHook', label=label)])
            else:
                train_in_subprocess(override, options, work_dir).check()
            runs[variant].append(read_run(work_dir))
    rows = ablation_rows(runs)
    table = markdown_table(rows, first_columns=('variant', 'seeds'))
    with open(osp.join(out, 'ablation.md'), 'w') as f:
        f.write(table + '\n')
    with open(osp.join(out, 'ablation.json'), 'w') as f:
        json.dump(rows, f, indent=1)
    first_seeds = [r[0] for r in runs.values()]
    figures = plot_runs(first_seeds, osp.join(out, 'plots'))
    overview = plot_panels(
        first_seeds, OVERVIEW_PANELS, osp.join(out, 'plots', 'ablation.png'),
        title=f'{title or osp.basename(base)}: one head vs two '
        f'(seed {seeds[0]})')
    return dict(rows=rows, table=table, figures=figures + [overview],
                overview=overview)
