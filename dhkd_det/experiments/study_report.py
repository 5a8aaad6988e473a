"""The diagnostics of a sweep's finished cells, per method: top-1 (last and
best), neural collapse (NC1, NC2) at the last validation, and the gradient
cosines of the task and distillation losses on the main head and the
backbone with the fraction of measured steps where they conflicted: the
ablation's table (``ablation.ablation_rows``) over a sweep's cells, and its
one-figure overview (seed ``seeds[0]`` of every method).

This is how a sweep answers DHKD's falsifiable question on its pair: does
the shared head of the one-head student show the conflict, and does the
dual head remove it?  The cells must have logged the diagnostics: the
sweep's pair config lists ``GradDiagnosticsHook`` and ``NeuralCollapseHook``
in its ``custom_hooks`` (``configs/dhkd/digit_pairs_res20_res8.py`` does).
"""
import json
import os.path as osp
from typing import Dict, List

from ..analysis.curves import plot_panels
from ..analysis.runs import Run, read_run
from ..analysis.summary import csv_table, markdown_table
from .ablation import OVERVIEW_PANELS, ablation_rows
from .methods import METHODS
from .sweep import Sweep, cell_dir, cell_state

FIRST_COLUMNS = ('pair', 'method', 'seeds')


def finished_runs(sweep: Sweep, out: str) -> Dict[str, Dict[str, List[Run]]]:
    """pair -> method -> the runs of its finished cells, in seed order."""
    runs: Dict[str, Dict[str, List[Run]]] = {}
    for cell in sweep.cells():
        work_dir = cell_dir(out, cell)
        if cell_state(work_dir) == 'finished':
            runs.setdefault(cell.pair, {}).setdefault(
                cell.method, []).append(read_run(work_dir))
    return runs


def _blank_one_sided(row: Dict[str, str], runs: List[Run]) -> None:
    """'-' for a parameter group's cosine and conflict share where every
    logged cosine of every run is exactly 0: one of the two losses never
    reached that group (CE alone; DHKD's main head, which only CE
    reaches), so there is no pair of gradients to compare, and a mean of
    zeros would read as "orthogonal"."""
    for column in [c for c in row if c.startswith('cos_')]:
        group = column[len('cos_'):]
        values = [v for run in runs
                  for v in run.series('train', f'grad/cos_{group}')[1]]
        if values and all(v == 0 for v in values):
            row[column] = '-'
            if f'conflict_{group}' in row:
                row[f'conflict_{group}'] = '-'


def study_report(sweep: Sweep, out: str) -> Dict[str, object]:
    """Writes ``diagnostics.md``, ``diagnostics.csv`` and, per pair,
    ``diagnostics_<pair>.png`` in ``out``; returns the rows, the markdown
    and the files written."""
    rows, files = [], []
    for pair, by_method in finished_runs(sweep, out).items():
        for row in ablation_rows(by_method):
            method = row.pop('variant')
            _blank_one_sided(row, by_method[method])
            rows.append(dict(pair=pair, method=METHODS[method].title
                             if method in METHODS else method, **row))
        first = [seeds[0] for seeds in by_method.values()]
        files.append(plot_panels(
            first, OVERVIEW_PANELS,
            osp.join(out, f'diagnostics_{pair}.png'),
            title=f'{sweep.name}, {pair}: top-1, gradient cosines and NC1 '
            f'(seed {sweep.seeds[0]})'))
    table = markdown_table(rows, first_columns=FIRST_COLUMNS)
    for name, text in (('diagnostics.md', table + '\n'),
                       ('diagnostics.csv', csv_table(
                           rows, first_columns=FIRST_COLUMNS))):
        path = osp.join(out, name)
        with open(path, 'w') as f:
            f.write(text)
        files.append(path)
    with open(osp.join(out, 'diagnostics.json'), 'w') as f:
        json.dump(rows, f, indent=1)
    return dict(rows=rows, markdown=table, files=files)
