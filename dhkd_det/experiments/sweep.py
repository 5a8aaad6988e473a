"""The paper's table in one command: a sweep of teacher / student pairs x
methods x seeds, each cell one run of ``tools/train.py`` in its own work dir
``<out>/<pair>/<method>/seed_<seed>/``, resumable cell by cell.

A cell is
- finished when its work dir holds a readable ``results.json`` (written
  atomically when the run ended well, with its best and last top-1): never
  run again.  A damaged one (cut off, empty, without its numbers: a copy or
  a file system that lost it) is named and does not count: the cell is
  interrupted, failed or new by the rules below, and its rerun writes the
  file again;
- interrupted when it holds a checkpoint (MMEngine's ``last_checkpoint``):
  run again with ``--resume``;
- failed when its last run exited non-zero (``failed.json`` keeps the exit
  code and the log's last lines): run again from scratch, or resumed where
  it left a checkpoint.
So rerunning the same command after a crash or a preemption finishes the
table without redoing finished work.  Runs go through a local process pool
(``run_local``: as many concurrent runs per GPU as asked, one at a time on
the CPU) or a slurm job array (``slurm.py``, one task per cell, each the
same command with ``--only <cell>``); ``sweep_table.collect`` builds the
table from the work dirs whenever asked.
"""
import json
import math
import os
import os.path as osp
import queue
import shlex
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.runner import find_latest_checkpoint

from ..analysis.runs import read_run
from ..apis.runner import TRAIN_TOOL, train_in_subprocess
from ..checkpoint.atomic_file import atomic_write_text
from ..utils.paths import REPO
from .methods import METHODS, method_config
from .sweep_preflight import FirstFailures, check_cells

RESULTS_FILE = 'results.json'
FAILED_FILE = 'failed.json'
STDOUT_LOG = 'train_stdout.log'
OVERRIDE_DIR = 'override'
#: characters of a failed run's output kept in failed.json and printed
TAIL_CHARS = 3000
#: reading a config imports its custom_imports and edits sys.path: the
#: pool's threads write their cells' configs one at a time
_CONFIG_LOCK = threading.Lock()


@dataclass(frozen=True)
class Cell:
    pair: str
    method: str
    seed: int

    @property
    def id(self) -> str:
        """``<pair>/<method>/seed_<seed>``: the work dir under the sweep's
        output folder, and what ``--only`` takes."""
        return f'{self.pair}/{self.method}/seed_{self.seed}'


def parse_cell(text: str) -> Cell:
    parts = text.strip('/').split('/')
    if len(parts) != 3 or not parts[2].startswith('seed_') or \
            not parts[2][len('seed_'):].lstrip('-').isdigit():
        raise ValueError(f'--only {text!r}: a cell is '
                         '<pair>/<method>/seed_<seed>, e.g. '
                         'res32x4_res8x4/dkd/seed_0')
    return Cell(parts[0], parts[1], int(parts[2][len('seed_'):]))


@dataclass
class Sweep:
    """``pairs``: name -> the pair's config file; ``cfg_options``: applied
    to every run, the command line's over the sweep file's."""
    file: str
    pairs: Dict[str, str]
    methods: List[str]
    seeds: List[int]
    cfg_options: Dict[str, object]

    @property
    def name(self) -> str:
        return osp.splitext(osp.basename(self.file))[0]

    def cells(self) -> List[Cell]:
        return [Cell(p, m, s) for p in self.pairs for m in self.methods
                for s in self.seeds]


def pair_config(name: str) -> str:
    """The config of a pair named as in ``configs/dhkd/`` (``res56_res20``
    for ``configs/dhkd/cifar100_res56_res20.py``)."""
    return osp.join(REPO, 'configs', 'dhkd', f'cifar100_{name}.py')


def _config_path(path: str, sweep_file: str) -> str:
    """A config named in a sweep file: as given, else from the sweep file's
    folder, else from the repository."""
    for candidate in (path, osp.join(osp.dirname(sweep_file), path),
                      osp.join(REPO, path)):
        if osp.isfile(candidate):
            return osp.abspath(candidate)
    return path


def load_sweep(path: str, cfg_options: Optional[dict] = None) -> Sweep:
    """Reads a sweep file (Python, MMEngine's config format) with keys
    ``pairs`` (a list of pair names of ``configs/dhkd/``, or a dict name ->
    config file), ``methods`` (names of ``methods.METHODS``), ``seeds`` and
    optionally ``cfg_options`` (a dict of ``--cfg-options`` for every run);
    ``cfg_options`` given here override the file's."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'sweep file {path!r} not found (e.g. '
                                'configs/sweeps/cifar100_paper.py)')
    cfg = Config.fromfile(path)
    missing = [k for k in ('pairs', 'methods', 'seeds') if k not in cfg]
    if missing:
        raise KeyError(f'{path}: no {", ".join(missing)}; a sweep names '
                       'pairs = [...], methods = [...], seeds = [...]')
    pairs = cfg.pairs
    if isinstance(pairs, (list, tuple)):
        pairs = {name: pair_config(name) for name in pairs}
    elif isinstance(pairs, dict):
        pairs = {name: _config_path(file, path)
                 for name, file in pairs.items()}
    else:
        raise TypeError(f'{path}: pairs must be a list of pair names or a '
                        f'dict name -> config file, not {pairs!r}')
    for name, file in pairs.items():
        if not osp.isfile(file):
            raise FileNotFoundError(
                f'{path}: pair {name!r} has no config ({file} not found); '
                'name a pair of configs/dhkd/cifar100_<pair>.py or give '
                'pairs as a dict name -> config file')
        if '/' in name:
            raise ValueError(f'{path}: pair name {name!r} names a folder; '
                             'use a name without "/"')
    unknown = [m for m in cfg.methods if m not in METHODS]
    if unknown:
        raise KeyError(f'{path}: unknown methods {unknown} in methods; '
                       f'choose from {sorted(METHODS)}')
    if not cfg.seeds or not all(isinstance(s, int) for s in cfg.seeds):
        raise TypeError(f'{path}: seeds must be a non-empty list of '
                        f'integers, not {cfg.seeds!r}')
    options = dict(cfg.get('cfg_options') or {})
    options.update(cfg_options or {})
    return Sweep(osp.abspath(path), pairs, list(cfg.methods),
                 list(cfg.seeds), _plain(options))


def _plain(value):
    """Config containers as plain dicts / lists (for repr and JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def format_option(value) -> str:
    """A parsed ``--cfg-options`` value back in MMEngine's DictAction
    syntax."""
    if isinstance(value, (list, tuple)):
        inner = ','.join(format_option(v) for v in value)
        return f'[{inner}]' if isinstance(value, list) else f'({inner})'
    return str(value)


def option_args(options: Dict[str, object]) -> List[str]:
    """``--cfg-options k=v ...`` as command-line arguments (none if
    empty)."""
    if not options:
        return []
    return ['--cfg-options'] + [f'{k}={format_option(v)}'
                                for k, v in options.items()]


# --- one cell -------------------------------------------------------------

def cell_dir(out: str, cell: Cell) -> str:
    return osp.join(out, cell.pair, cell.method, f'seed_{cell.seed}')


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(
        value, bool) and math.isfinite(value)


#: the numbers a classification cell's results.json must hold
CLS_RESULT_KEYS = ('best_top1', 'last_top1')


def read_results(path: str, cell_id: str,
                 required: Sequence[str] = CLS_RESULT_KEYS) -> dict:
    """The results a finished run left in ``path``; a ValueError naming the
    file and the cell when it is damaged (not JSON, not an object, or
    without a number under each of ``required``; ``seconds``, when
    present, a number)."""
    try:
        with open(path, encoding='utf-8') as f:
            results = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        reason = 'empty' if not os.path.getsize(path) else \
            f'not JSON ({err}): cut off?'
        raise ValueError(f'{path} (cell {cell_id}) is damaged: {reason}') \
            from err
    if not isinstance(results, dict):
        raise ValueError(f'{path} (cell {cell_id}) is damaged: it holds a '
                         f'{type(results).__name__}, not the results object')
    wrong = [k for k in required if not _number(results.get(k))]
    if 'seconds' in results and not _number(results['seconds']):
        wrong.append('seconds')
    if wrong:
        raise ValueError(f'{path} (cell {cell_id}) is damaged: no number '
                         f'under {", ".join(wrong)}')
    return results


def damaged_results(work_dir: str,
                    required: Sequence[str] = CLS_RESULT_KEYS
                    ) -> Optional[str]:
    """Why the ``results.json`` of ``work_dir`` is damaged, or None when it
    is readable or absent."""
    path = osp.join(work_dir, RESULTS_FILE)
    if not osp.isfile(path):
        return None
    try:
        read_results(path, _cell_id(work_dir), required)
    except ValueError as err:
        return str(err)
    return None


def _cell_id(work_dir: str) -> str:
    return '/'.join(osp.normpath(work_dir).split(osp.sep)[-3:])


def cell_state(work_dir: str,
               required: Sequence[str] = CLS_RESULT_KEYS) -> str:
    """'finished', 'interrupted' (a checkpoint to resume from), 'failed'
    (its last run failed before any checkpoint) or 'new'.  A damaged
    ``results.json`` (one without a number under each of ``required``)
    does not make a cell finished (``damaged_results`` says why)."""
    if osp.isfile(osp.join(work_dir, RESULTS_FILE)) and \
            damaged_results(work_dir, required) is None:
        return 'finished'
    if osp.isdir(work_dir) and find_latest_checkpoint(work_dir):
        return 'interrupted'
    if osp.isfile(osp.join(work_dir, FAILED_FILE)):
        return 'failed'
    return 'new'


def launch_cell(config: str, options: Dict[str, object], work_dir: str,
                resume: bool = False,
                env: Optional[Dict[str, str]] = None) -> Tuple[int, str]:
    """Trains ``config`` with ``options`` in ``work_dir`` through the
    project's run launcher (``tools/train.py`` in a child process, the
    merged config written as ``<work_dir>/<config name>``; ``env`` added to
    its environment); returns (exit code, the output's tail).  The one
    place a sweep starts a run."""
    run = train_in_subprocess(config, options, work_dir, resume=resume,
                              env=env)
    return run.returncode, run.tail(TAIL_CHARS)


#: (override config, cfg_options, work dir, resume, env) -> (rc, log tail)
LaunchFn = Callable[..., Tuple[int, str]]


def write_cell_config(sweep: Sweep, cell: Cell, work_dir: str) -> str:
    """Writes the cell's override config to ``<work_dir>/override/`` (with
    the command that trains it in its header; not in the work dir itself,
    where MMEngine dumps the merged config under the same name); returns its
    path."""
    os.makedirs(osp.join(work_dir, OVERRIDE_DIR), exist_ok=True)
    path = osp.join(work_dir, OVERRIDE_DIR, f'{cell.method}.py')
    merged = osp.join(work_dir, f'{cell.method}.py')
    command = ' '.join(shlex.quote(a) for a in (
        'python', TRAIN_TOOL, merged, '--work-dir', work_dir))
    atomic_write_text(path, method_config(
        cell.method, cell.pair, sweep.pairs[cell.pair], cell.seed,
        header=f'written by tools/reproduce.py for {sweep.file}; rerun:\n'
        f'{command}'))
    return path


def run_results(work_dir: str) -> dict:
    """Best and last validation top-1 of a finished run and its epochs
    (read by ``analysis.read_run``)."""
    run = read_run(work_dir)
    steps, top1 = run.series('val', 'top1')
    if not top1:
        raise ValueError(f'{work_dir}: the run logged no validation top1')
    return dict(best_top1=max(top1), last_top1=top1[-1], epochs=steps[-1])


def _earlier_seconds(work_dir: str) -> float:
    """The seconds the cell's earlier, failed attempts took."""
    path = osp.join(work_dir, FAILED_FILE)
    if not osp.isfile(path):
        return 0.0
    try:
        with open(path, encoding='utf-8') as f:
            seconds = json.load(f).get('seconds_total', 0.0)
    except (UnicodeDecodeError, ValueError, AttributeError):
        return 0.0  # a damaged failed.json: the time is only informative
    return seconds if _number(seconds) else 0.0


@dataclass
class Outcome:
    cell: Cell
    status: str          # 'done', 'failed' or 'skipped' (finished before)
    seconds: float = 0.0
    tail: str = ''
    resumed: bool = False


def run_cell(sweep: Sweep, out: str, cell: Cell,
             launch: LaunchFn = launch_cell,
             env: Optional[Dict[str, str]] = None,
             say: Callable[[str], None] = print) -> Outcome:
    """Runs one cell unless it is finished: resumed from its checkpoint if
    it has one; ``results.json`` on success, ``failed.json`` (exit code and
    log tail) on failure.  A damaged ``results.json`` is named (``say``) and
    the cell run again."""
    work_dir = cell_dir(out, cell)
    state = cell_state(work_dir)
    if state == 'finished':
        return Outcome(cell, 'skipped')
    damaged = damaged_results(work_dir)
    if damaged:
        say(f'{damaged}; the cell is not finished: running it again, '
            + ('resumed from its checkpoint' if state == 'interrupted'
               else 'from scratch (no checkpoint)'))
    os.makedirs(work_dir, exist_ok=True)
    with _CONFIG_LOCK:
        config = write_cell_config(sweep, cell, work_dir)
    earlier = _earlier_seconds(work_dir)
    start = time.time()
    resume = state == 'interrupted'
    rc, tail = launch(config, sweep.cfg_options, work_dir, resume, env)
    if rc == 0:
        try:
            results = run_results(work_dir)
        except (FileNotFoundError, ValueError) as err:
            rc, tail = -1, f'{tail}\n{err}'
    seconds = time.time() - start
    failed = osp.join(work_dir, FAILED_FILE)
    if rc != 0:
        atomic_write_text(failed, json.dumps(dict(
            cell=cell.id, returncode=rc, tail=tail, resumed=resume,
            seconds_total=earlier + seconds,
            time=time.strftime('%Y-%m-%d %H:%M:%S')),
            indent=1))
        return Outcome(cell, 'failed', seconds, tail, resume)
    # the subprocesses' wall time over every attempt, for the cost of a run
    results.update(cell=cell.id, pair=cell.pair, method=cell.method,
                   seed=cell.seed, seconds=earlier + seconds)
    atomic_write_text(osp.join(work_dir, RESULTS_FILE),
                      json.dumps(results, indent=1))
    if osp.exists(failed):
        os.remove(failed)
    return Outcome(cell, 'done', seconds, resumed=resume)


# --- many cells on one machine ------------------------------------------

def visible_devices() -> List[str]:
    """The GPUs runs may use: ``CUDA_VISIBLE_DEVICES`` if set, else every
    GPU torch sees; none on a CPU machine."""
    listed = os.environ.get('CUDA_VISIBLE_DEVICES')
    if listed is not None:
        return [d.strip() for d in listed.split(',') if d.strip()]
    import torch
    return [str(i) for i in range(torch.cuda.device_count())]


def device_slots(devices: Sequence[str], per_gpu: int) -> List[
        Optional[str]]:
    """One slot per concurrent run: ``per_gpu`` for each device, in the
    order that spreads the first runs over all devices; one CPU slot (runs
    one after the other) without devices."""
    if per_gpu < 1:
        raise ValueError(f'--per-gpu {per_gpu}: give at least 1')
    if not devices:
        return [None]
    return [d for _ in range(per_gpu) for d in devices]


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f'{hours}h {minutes:02d}m' if hours else f'{minutes}m {secs:02d}s'


def run_local(sweep: Sweep, out: str, cells: Sequence[Cell],
              slots: Sequence[Optional[str]],
              launch: LaunchFn = launch_cell,
              say: Callable[[str], None] = print) -> List[Outcome]:
    """Runs the unfinished ``cells`` over ``slots`` (``device_slots``),
    each run with ``CUDA_VISIBLE_DEVICES`` set to its slot's GPU; says a
    progress line per finished run (done / running / failed, time left) and
    returns every cell's outcome, finished ones as 'skipped'."""
    outcomes = [Outcome(c, 'skipped') for c in cells
                if cell_state(cell_dir(out, c)) == 'finished']
    todo = [c for c in cells if cell_state(cell_dir(out, c)) != 'finished']
    if launch is launch_cell:  # every cell's inputs, before any runs
        check_cells(sweep, todo, out)
    if outcomes:
        say(f'{len(outcomes)} of {len(cells)} cells finished already: '
            'skipped')
    free: 'queue.Queue[Optional[str]]' = queue.Queue()
    for slot in slots:
        free.put(slot)
    lock = threading.Lock()
    started = [0]

    def work(cell: Cell) -> Outcome:
        slot = free.get()
        with lock:
            started[0] += 1
        try:
            env = None if slot is None else {'CUDA_VISIBLE_DEVICES': slot}
            return run_cell(sweep, out, cell, launch, env, say)
        finally:
            free.put(slot)

    ran: List[Outcome] = []
    first = FirstFailures(out, cell_dir)  # alike failures stop the sweep
    with ThreadPoolExecutor(max_workers=len(slots)) as pool:
        for future in as_completed([pool.submit(work, c) for c in todo]):
            outcome = future.result()
            with lock:
                ran.append(outcome)
                running = started[0] - len(ran)
            failed = sum(o.status == 'failed' for o in ran)
            left = len(todo) - len(ran)
            per_run = sum(o.seconds for o in ran) / len(ran)
            eta = per_run * left / len(slots)
            say(f'[{len(ran)}/{len(todo)}] {outcome.cell.id} '
                f'{outcome.status}{" (resumed)" if outcome.resumed else ""} '
                f'in {_duration(outcome.seconds)}: done '
                f'{len(ran) - failed}, running {running}, failed {failed}, '
                f'left {left}' + (f', about {_duration(eta)} to go'
                                  if left else ''))
            if outcome.status == 'failed':
                say(failure_report(out, outcome))
            shared = first.note(outcome)
            if shared:
                pool.shutdown(wait=False, cancel_futures=True)
                raise shared
    return outcomes + ran


def failure_report(out: str, outcome: Outcome) -> str:
    work_dir = cell_dir(out, outcome.cell)
    return (f'--- {outcome.cell.id} failed; the last lines of '
            f'{osp.join(work_dir, STDOUT_LOG)}:\n{outcome.tail.rstrip()}\n'
            f'--- (rerun the same command to retry it)')
