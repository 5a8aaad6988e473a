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
import re
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

from ..apis.config import load_config
from ..apis.dhkd_runner import train_loaders
from ..checks.preflight import (PreflightFailed, Problem, gather, preflight,
                                problem_report)
from .methods import method_config


#: how many first finished cells, all failed alike, stop a sweep
FIRST_FAILURES = 3


class SharedFailure(RuntimeError):
    """The first cells of a sweep failed alike: the rest would too."""


def failure_cause(tail: str, work_dir: str) -> str:
    """What a failed cell's output says went wrong, comparable between
    cells: its last lines without the pointer to the cell's own log, the
    cell's work dir written as ``<cell>``, and time stamps dropped."""
    lines = [ln.rstrip() for ln in tail.replace(work_dir, '<cell>')
             .splitlines() if ln.strip()]
    lines = [ln for ln in lines
             if not ln.startswith('the full log, with the traceback:')]
    return re.sub(r'\d{8}_\d{6}', '<time>', '\n'.join(lines[-6:]))


class FirstFailures:
    """Watches a sweep's finished cells: when the first ``FIRST_FAILURES``
    all failed with one cause, ``note`` returns the ``SharedFailure`` to
    stop the sweep with (a later success or another cause: never)."""

    def __init__(self, out: str, cell_dir, limit: int = FIRST_FAILURES):
        self.out, self.cell_dir, self.limit = out, cell_dir, limit
        self.causes: List[str] = []
        self.cells: List[str] = []
        self.done = False

    def note(self, outcome) -> Optional[SharedFailure]:
        if self.done:
            return None
        if outcome.status != 'failed':
            self.done = True
            return None
        self.causes.append(failure_cause(
            outcome.tail, self.cell_dir(self.out, outcome.cell)))
        self.cells.append(outcome.cell.id)
        if len(set(self.causes)) > 1:
            self.done = True
            return None
        if len(self.causes) < self.limit:
            return None
        self.done = True
        return SharedFailure(
            f'the first {self.limit} cells to finish all failed alike '
            f'({", ".join(self.cells)}); the sweep stops before the others '
            f'fail the same way. Their shared cause:\n{self.causes[0]}\n'
            'Fix it, then rerun the same command (finished cells are kept).')


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
