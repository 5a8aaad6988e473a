"""Training curves as PNG figures, one per group of scalars, every run
overlaid in each (as MMDetection's ``analyze_logs.py`` plots its logs)."""
import math
import os
import os.path as osp
from typing import Callable, List, Sequence, Tuple

from .runs import Run

# (file name, title, which records, which keys)
GROUPS: Tuple[Tuple[str, str, str, Callable[[str], bool]], ...] = (
    ('losses', 'losses per head', 'train',
     lambda k: k.startswith('loss')),
    ('accuracy', 'validation: main / aux head and teacher', 'val',
     lambda k: k == 'top1' or k.endswith('/top1') or k.endswith('bbox_mAP')),
    ('learning_rate', 'learning rate', 'train', lambda k: k == 'lr'),
    ('distillation', 'distillation scale and teacher agreement', 'train',
     lambda k: k in ('distill_scale', 'teacher_agree')),
    ('gradients', 'gradient diagnostics', 'train',
     lambda k: k.startswith('grad/')),
    ('neural_collapse', 'neural collapse at validation', 'val',
     lambda k: k.startswith('nc')),
)


def plot_runs(runs: Sequence[Run], out_dir: str) -> List[str]:
    """Writes ``<out_dir>/<group>.png`` for every group some run logged;
    returns the paths written.  The figures are matplotlib ``Figure``s
    outside pyplot, so it may run in any thread (``PlotCurvesHook`` draws
    in a background one)."""
    from matplotlib.figure import Figure

    os.makedirs(out_dir, exist_ok=True)
    labels = _labels(runs)
    written = []
    for name, title, part, wanted in GROUPS:
        keys = []
        for run in runs:
            keys += [k for k in run.keys(part) if wanted(k) and k not in keys]
        if not keys:
            continue
        cols = min(3, len(keys))
        rows = math.ceil(len(keys) / cols)
        fig = Figure(figsize=(4.5 * cols, 3.2 * rows))
        axes = fig.subplots(rows, cols, squeeze=False)
        for ax, key in zip(axes.flat, keys):
            for i, (run, label) in enumerate(zip(runs, labels)):
                steps, values = run.series(part, key)
                if steps:
                    ax.plot(steps, values, label=label, color=f'C{i % 10}',
                            marker='o' if part == 'val' else None,
                            markersize=3, linewidth=1)
            ax.set_title(key, fontsize=10)
            ax.set_xlabel('iteration' if part == 'train' else 'validation '
                          'step (epoch)')
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[len(keys):]:
            ax.axis('off')
        if len(runs) > 1:
            axes.flat[0].legend(fontsize=8)
        fig.suptitle(title)
        written.append(save_figure(fig, osp.join(out_dir, f'{name}.png')))
    return written


def plot_panels(runs: Sequence[Run], panels: Sequence[Tuple[str, str]],
                path: str, title: str = '') -> str:
    """One figure of chosen scalars side by side, every run overlaid: each
    panel is ``(part, key)`` with part 'train' or 'val' (a panel no run
    logged is left out).  Returns ``path``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    panels = [(part, key) for part, key in panels
              if any(run.series(part, key)[0] for run in runs)]
    if not panels:
        raise ValueError(f'none of the runs logged any of {panels}')
    labels = _labels(runs)
    fig, axes = plt.subplots(1, len(panels), squeeze=False,
                             figsize=(4.2 * len(panels), 3.4))
    for ax, (part, key) in zip(axes.flat, panels):
        for i, (run, label) in enumerate(zip(runs, labels)):
            steps, values = run.series(part, key)
            if steps:
                ax.plot(steps, values, label=label, color=f'C{i % 10}',
                        linewidth=1.2,
                        marker='o' if part == 'val' else None, markersize=3)
        ax.set_title(key, fontsize=10)
        ax.set_xlabel('iteration' if part == 'train' else 'epoch')
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def save_figure(fig, path: str) -> str:
    """Lays ``fig`` out, writes it to ``path`` (folders made as needed) and
    frees it; returns ``path``.  Every figure of the package is written
    here, at one resolution."""
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=90)
    if fig.canvas.manager is not None:  # a pyplot figure: free it there
        import matplotlib.pyplot as plt
        plt.close(fig)
    return path


def _labels(runs: Sequence[Run]) -> List[str]:
    """Work-dir names, with the parent folder where two names clash."""
    names = [run.name for run in runs]
    return [osp.join(osp.basename(osp.dirname(osp.normpath(run.work_dir))),
                     name) if names.count(name) > 1 else name
            for run, name in zip(runs, names)]
