"""A sweep's table, built from its work dirs whenever asked: one row per
pair and method with the mean ± std over seeds of the best and last top-1,
the seeds finished, the published number with its source and the
difference; as Markdown and CSV (``analysis.summary``'s table writer) and a
figure of the spread per cell."""
import os
import os.path as osp
import statistics
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from ..analysis.curves import save_figure
from ..analysis.summary import csv_table, markdown_table, mean_std
from ..checkpoint.atomic_file import atomic_write_text
from .methods import title_of
from .published import SOURCES, Published, published
from .sweep import RESULTS_FILE, Cell, Sweep, cell_dir, read_results

MARKDOWN_COLUMNS = ('pair', 'method', 'seeds', 'best top-1', 'last top-1',
                    'published', 'Δ best', 'source', 'min / run')
CSV_COLUMNS = ('pair', 'method', 'seeds_finished', 'seeds', 'best_mean',
               'best_std', 'last_mean', 'last_std', 'published',
               'published_std', 'diff_best', 'source', 'minutes_per_run')


@dataclass
class CellStats:
    """The finished seeds of one pair and method."""
    pair: str
    method: str
    seeds: int
    best: List[float] = field(default_factory=list)
    last: List[float] = field(default_factory=list)
    seconds: List[float] = field(default_factory=list)
    reference: Optional[Published] = None

    @property
    def diff(self) -> Optional[float]:
        """Mean best top-1 minus the published number."""
        if not self.best or self.reference is None:
            return None
        return statistics.mean(self.best) - self.reference.top1

    @property
    def minutes(self) -> Optional[float]:
        """Mean wall minutes of a finished run (all its attempts)."""
        return statistics.mean(self.seconds) / 60 if self.seconds else None

    def markdown_row(self) -> Dict[str, str]:
        ref = self.reference
        row = {'pair': self.pair, 'method': title_of(self.method),
               'seeds': f'{len(self.best)}/{self.seeds}',
               'best top-1': mean_std(self.best),
               'last top-1': mean_std(self.last)}
        if ref is not None:
            row['published'] = f'{ref.top1:.2f}' + (
                f' ± {ref.spread:.2f}' if ref.spread is not None else '')
            row['source'] = ref.source
            if self.diff is not None:
                row['Δ best'] = f'{self.diff:+.2f}'
        if self.minutes is not None:
            row['min / run'] = f'{self.minutes:.1f}'
        return row

    def csv_row(self) -> Dict[str, str]:
        def number(value):
            return '' if value is None else f'{value:.4f}'

        def stat(values, fn):
            return number(fn(values)) if len(values) >= (
                2 if fn is statistics.stdev else 1) else ''

        ref = self.reference
        return {'pair': self.pair, 'method': self.method,
                'seeds_finished': str(len(self.best)),
                'seeds': str(self.seeds),
                'best_mean': stat(self.best, statistics.mean),
                'best_std': stat(self.best, statistics.stdev),
                'last_mean': stat(self.last, statistics.mean),
                'last_std': stat(self.last, statistics.stdev),
                'published': number(ref and ref.top1),
                'published_std': number(ref and ref.spread),
                'diff_best': number(self.diff),
                'source': ref.source if ref else '',
                'minutes_per_run': number(self.minutes)}


def cell_stats(sweep: Sweep, out: str,
               damaged: Optional[List[str]] = None) -> List[CellStats]:
    """Every pair and method of ``sweep``, with the results of its seeds
    finished so far under ``out``; a damaged ``results.json`` is left out
    and why (naming the file and the cell) appended to ``damaged``."""
    stats = []
    for pair in sweep.pairs:
        for method in sweep.methods:
            cell = CellStats(pair, method, len(sweep.seeds),
                             reference=published(pair, method))
            for seed in sweep.seeds:
                one = Cell(pair, method, seed)
                path = osp.join(cell_dir(out, one), RESULTS_FILE)
                if not osp.isfile(path):
                    continue
                try:
                    results = read_results(path, one.id)
                except ValueError as err:
                    if damaged is not None:
                        damaged.append(str(err))
                    continue
                cell.best.append(results['best_top1'])
                cell.last.append(results['last_top1'])
                if 'seconds' in results:
                    cell.seconds.append(results['seconds'])
            stats.append(cell)
    return stats


def table_markdown(stats: List[CellStats],
                   damaged: Sequence[str] = ()) -> str:
    """The Markdown table and, below it, what its columns mean, the sources
    it cites and the damaged results it leaves out."""
    table = markdown_table([s.markdown_row() for s in stats],
                           MARKDOWN_COLUMNS)
    cited = sorted({s.reference.source for s in stats if s.reference})
    notes = ['', 'Top-1 (%): mean ± sample std over the seeds finished '
             '(validation after every epoch: best and last); Δ best = mean '
             'best top-1 − published (CIFAR-100); min / run: mean wall '
             'minutes of a run; "-": not run yet, or no published number '
             'found.']
    notes += [f'- {key}: {SOURCES[key]}' for key in cited]
    if damaged:
        notes += ['', 'Not counted (rerun the same command to run these '
                  'cells again, resumed from their checkpoints):']
        notes += [f'- {why}' for why in damaged]
    return table + '\n' + '\n'.join(notes) + '\n'


def plot_spread(stats: List[CellStats], path: str, title: str = '') -> str:
    """One panel: per cell the seeds' best top-1 as points, their mean as a
    bar and the published number as a cross; returns ``path``."""
    import matplotlib
    matplotlib.use('Agg')  # files only, no display needed
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(stats) + 2), 4.5))
    for x, cell in enumerate(stats):
        if cell.best:
            ax.scatter([x] * len(cell.best), cell.best, s=14, color='C0',
                       alpha=0.7, label='seeds' if x == 0 else None)
            ax.hlines(statistics.mean(cell.best), x - 0.3, x + 0.3,
                      color='C0', linewidth=2,
                      label='mean' if x == 0 else None)
        if cell.reference is not None:
            ax.scatter([x], [cell.reference.top1], marker='x', color='C3',
                       s=30, label='published')
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    if unique:
        ax.legend(unique.values(), unique.keys(), fontsize=8)
    ax.set_xticks(range(len(stats)))
    ax.set_xticklabels([f'{s.pair}\n{title_of(s.method)}'
                        for s in stats], rotation=90, fontsize=7)
    ax.set_ylabel('best top-1 (%)')
    ax.grid(alpha=0.3, axis='y')
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def collect(sweep: Sweep, out: str) -> Dict[str, object]:
    """Writes ``<out>/table.md``, ``table.csv`` and ``spread.png`` from the
    cells finished so far; returns dict(stats=..., markdown=..., files=[],
    damaged=[why each damaged results.json was left out])."""
    damaged: List[str] = []
    stats = cell_stats(sweep, out, damaged)
    markdown = table_markdown(stats, damaged)
    os.makedirs(out, exist_ok=True)
    files = [osp.join(out, 'table.md'), osp.join(out, 'table.csv')]
    atomic_write_text(files[0], markdown)
    atomic_write_text(files[1], csv_table([s.csv_row() for s in stats],
                                          CSV_COLUMNS))
    files.append(plot_spread(stats, osp.join(out, 'spread.png'),
                             title=f'{sweep.name}: best top-1 per seed'))
    return dict(stats=stats, markdown=markdown, files=files,
                damaged=damaged)
