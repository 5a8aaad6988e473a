"""A sweep's pre-flight: every unfinished cell's config checked before any
cell starts (``checks.preflight``), the problems listed once each with the
cells they concern.  Without it a sweep on a machine lacking CIFAR-100 ran
cell after cell into the same failure (10 cells and 450 lines of
tracebacks in 150 s, on its way through all 240).

The cells of one pair and method differ only in their seed, which changes
nothing the pre-flight reads: one config per pair and method is checked and
its problems are given to each of its cells.  A URL is asked once for the
whole sweep."""
import os.path as osp
import tempfile
from typing import Dict, List, Sequence, Tuple

from ..apis.config import load_config
from ..apis.dhkd_runner import train_loaders
from ..checks.preflight import (PreflightFailed, Problem, gather, preflight,
                                problem_report)
from .methods import method_config


class SweepPreflightFailed(PreflightFailed):
    """What the sweep's cells need is missing; the message lists each
    problem once, with the cells it concerns."""

    def __init__(self, grouped: Sequence[Tuple[Problem, List[str]]],
                 subject: str):
        RuntimeError.__init__(self, problem_report(grouped, subject))
        self.problems = [p for p, _ in grouped]
        self.cells = {p: cells for p, cells in grouped}


def check_cells(sweep, cells: Sequence, out: str) -> None:
    """Raise ``SweepPreflightFailed`` when any of ``cells`` (of ``sweep``,
    whose work dirs are under ``out``) lacks something it needs."""
    if not cells:
        return
    found: Dict[Tuple[str, str], List[Problem]] = {}
    with tempfile.TemporaryDirectory(prefix='dhkd_preflight_') as scratch:
        for cell in cells:
            key = (cell.pair, cell.method)
            if key in found:
                continue
            path = osp.join(scratch, f'{cell.pair}_{cell.method}.py')
            with open(path, 'w', encoding='utf-8') as f:
                f.write(method_config(cell.method, cell.pair,
                                      sweep.pairs[cell.pair], cell.seed))
            cfg = load_config(path, dict(sweep.cfg_options),
                              osp.join(out, cell.id))
            found[key] = preflight(cfg, train_loaders(cfg))
    grouped = gather((cell.id, found[(cell.pair, cell.method)])
                     for cell in cells)
    if grouped:
        raise SweepPreflightFailed(
            grouped, f'{sweep.file}, {len(cells)} cells to run')
