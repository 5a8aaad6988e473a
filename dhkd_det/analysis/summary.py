"""One Markdown row per run: config, method, student / teacher, seed,
epochs, best and last top-1 of each head, wall time, work dir (or the same
as numbers for CSV: ``summarize(run, numeric=True)``); and the one table
writer (Markdown, CSV) every results table of the package goes through."""
import csv
import io
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence

from .runs import Run

HEAD_KEYS = (('main', 'top1'), ('aux', 'aux/top1'),
             ('teacher', 'teacher/top1'), ('bbox mAP', 'coco/bbox_mAP'))
COLUMNS = ('config', 'method', 'student', 'teacher', 'seed', 'epochs')


def _config(run: Run):
    if run.config_file is None:
        return None
    from mmengine.config import Config
    return Config.fromfile(run.config_file)


def _arch(model) -> str:
    """A short name of a student / teacher config entry."""
    if model is None:
        return '-'
    if isinstance(model, str):
        return osp.splitext(osp.basename(model))[0]
    if 'network' in model:
        return _arch(model['network'])
    backbone = model.get('backbone') or {}
    if backbone:
        depth = backbone.get('depth')
        return f"{model.get('type')} {backbone.get('type')}{depth or ''}"
    return str(model.get('type'))


def describe_method(model: dict, optim_wrapper: Optional[dict]) -> str:
    """e.g. 'BinaryKLNormLoss on aux + GA', 'KDLoss on main', 'CE only'."""
    losses = model.get('distill_losses') or {}
    parts = [f"{cfg['type']} on {head}" for head, cfg in losses.items()]
    method = ', '.join(parts) or 'no distillation'
    if (optim_wrapper or {}).get('type') == 'GradAlignOptimWrapper':
        method += ' + GA'
    return method


def summarize(run: Run, numeric: bool = False) -> Dict[str, object]:
    """The run's row: strings for Markdown (``'72.10 / 71.85'``, ``'2m
    55s'``, '-' for an unknown wall time), or with ``numeric`` one number a
    column (``main best``, ``main last``, ``wall seconds``; empty where
    unknown) for a CSV that spreadsheets read as numbers."""
    cfg = _config(run)
    model = cfg.model if cfg is not None else {}
    epochs = max((r.get('epoch', 0) for r in run.train), default=0)
    row = dict(
        config=run.name if cfg is None else osp.splitext(
            osp.basename(run.config_file))[0],
        method=describe_method(model, cfg.get('optim_wrapper')
                               if cfg is not None else None),
        student=_arch(model.get('student')),
        teacher=_arch(model.get('teacher')),
        seed=_seed(cfg),
        epochs=str(epochs or len(run.val)))
    row: Dict[str, object] = dict(row)
    for head, key in HEAD_KEYS:
        _, values = run.series('val', key)
        if values and numeric:
            row[f'{head} best'] = round(max(values), 4)
            row[f'{head} last'] = round(values[-1], 4)
        elif values:
            row[f'{head} best / last'] = f'{max(values):.2f} / ' \
                f'{values[-1]:.2f}'
    if numeric:
        row['epochs'] = int(row['epochs'])
        row['seed'] = '' if row['seed'] == '-' else int(row['seed'])
        row['wall seconds'] = round(run.wall_seconds) or ''
    else:
        row['wall time'] = _duration(run.wall_seconds)
    row['work dir'] = run.work_dir
    return row


def _seed(cfg) -> str:
    seed = (cfg.get('randomness') or {}).get('seed') if cfg is not None \
        else None
    return '-' if seed is None else str(seed)


def _duration(seconds: float) -> str:
    """'2m 55s', '1h 04m'; '-' when the run's logs did not say."""
    if seconds <= 0:
        return '-'
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f'{minutes // 60}h {minutes % 60:02d}m' if minutes >= 60 else \
        f'{minutes}m {seconds:02d}s'


def table_columns(rows: Sequence[Dict[str, str]],
                  first_columns: Sequence[str] = COLUMNS) -> List[str]:
    """``first_columns``, then every other key in the order the rows bring
    them."""
    columns: List[str] = list(first_columns)
    for row in rows:
        columns += [c for c in row if c not in columns]
    return columns


def markdown_table(rows: Sequence[Dict[str, str]],
                   first_columns: Sequence[str] = COLUMNS) -> str:
    """Rows as a Markdown table (columns as ``table_columns``); '-' where a
    row has no value."""
    columns = table_columns(rows, first_columns)
    lines = ['| ' + ' | '.join(columns) + ' |',
             '|' + '---|' * len(columns)]
    for row in rows:
        lines.append('| ' + ' | '.join(row.get(c, '-') for c in columns) +
                     ' |')
    return '\n'.join(lines)


def csv_table(rows: Sequence[Dict[str, str]],
              first_columns: Sequence[str] = COLUMNS) -> str:
    """The same rows and columns as ``markdown_table``, as CSV (empty where
    a row has no value, so that spreadsheets read the numbers as numbers)."""
    columns = table_columns(rows, first_columns)
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, restval='', lineterminator='\n')
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def mean_std(values: Sequence[Optional[float]]) -> str:
    """'mean ± std' over seeds (the sample std, n - 1), the value alone for
    one seed, '-' for none (a None, a seed that did not log it, is left
    out)."""
    values = [v for v in values if v is not None]
    if not values:
        return '-'
    if len(values) == 1:
        return f'{values[0]:.2f}'
    return f'{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}'
