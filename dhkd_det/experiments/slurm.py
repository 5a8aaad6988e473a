"""A sweep on a slurm cluster, through submitit: one job array, one task
per unfinished cell, each task a ``CellJob`` that runs its cell as a local
driver does (resumed from its checkpoint, ``results.json`` at the end).

submitit writes and submits the array's sbatch script and, in each task,
handles the cluster's signals: slurm warns ``signal_delay_s`` seconds
before the time limit (``--signal=USR2@<s>``) or on preemption; submitit
then calls ``CellJob.checkpoint``, which passes the stop on to the running
``tools/train.py`` (SIGTERM: it saves and exits 75), waits for it, and
hands back the same job, which submitit requeues (``scontrol requeue``);
the requeued task resumes the cell.  Nothing here writes sbatch text.
"""
import os
import os.path as osp
import re
import shlex
import signal
import threading
from typing import Dict, List, Optional, Sequence

from ..utils.paths import REPO
from .sweep import (CHILDREN, Cell, Outcome, Sweep, failure_report,
                    load_sweep, parse_cell, run_cell, sweep_lock)

#: seconds between slurm's warning and the end of a task's time: what a
#: run has to finish its iteration and save (tools/slurm_train.sh's too)
SIGNAL_DELAY_S = 180
#: how often one task may be requeued after reaching its time limit
#: (preemptions do not count): a 240-epoch run in 4-hour slices
MAX_REQUEUES = 20


def _submitit():
    try:
        import submitit
    except ImportError as err:
        raise RuntimeError(
            '--launcher slurm submits through submitit, which is not '
            'installed: pip install submitit (or pip install -e ".[slurm]"); '
            'or run the sweep with the local pool (no --launcher)') from err
    return submitit


class CellJob:
    """One cell of a sweep as a submitit job: ``job(cell_id)`` trains the
    cell in a ``tools/train.py`` child (the sweep's own ``run_cell``) and
    returns its outcome; ``checkpoint(cell_id)`` is what submitit calls on
    slurm's time-limit warning or a preemption."""

    def __init__(self, sweep_file: str, out: str,
                 cli_options: Dict[str, object], cwd: str):
        self.sweep_file, self.out = sweep_file, out
        self.cli_options, self.cwd = dict(cli_options), cwd
        self._thread: Optional[threading.Thread] = None
        self._outcome: Optional[Outcome] = None

    def __getstate__(self):  # submitit pickles the job: no thread
        return dict(sweep_file=self.sweep_file, out=self.out,
                    cli_options=self.cli_options, cwd=self.cwd)

    def __setstate__(self, state):
        self.__init__(**state)

    def __call__(self, cell_id: str) -> dict:
        os.chdir(self.cwd)  # a sweep's relative paths: from where it began
        sweep = load_sweep(self.sweep_file, self.cli_options)
        cell = parse_cell(cell_id)
        # the run waits in a thread, this one for the thread: submitit's
        # signal handler (this thread) must be able to wait for the run
        with sweep_lock(self.out, shared=True):
            self._thread = threading.Thread(
                target=self._run, args=(sweep, cell), daemon=True)
            self._thread.start()
            self._thread.join()
        outcome = self._outcome
        if outcome is None:
            raise RuntimeError(f'{cell_id}: the run ended without an outcome')
        if outcome.status == 'failed':
            raise RuntimeError(failure_report(self.out, outcome))
        if outcome.status in ('stopped', 'not started'):
            raise RuntimeError(
                f'{cell_id} was stopped (saved: a rerun or requeue resumes '
                'it)')
        return dict(cell=cell_id, status=outcome.status,
                    seconds=outcome.total_seconds)

    def _run(self, sweep: Sweep, cell: Cell) -> None:
        self._outcome = run_cell(sweep, self.out, cell,
                                 say=lambda line: print(line, flush=True))

    def checkpoint(self, cell_id: str):
        """Stops the running ``tools/train.py`` (SIGTERM: it saves and
        exits 75), waits until it has, and returns this job for submitit to
        requeue."""
        CHILDREN.stop(signal.SIGUSR2)
        if self._thread is not None:
            self._thread.join()
        print(f'{cell_id}: saved; requeued to resume', flush=True)
        return _submitit().helpers.DelayedSubmission(
            CellJob(self.sweep_file, self.out, self.cli_options, self.cwd),
            cell_id)


def slurm_minutes(text: str) -> int:
    """A slurm time limit (``M``, ``M:S``, ``H:M:S``, ``D-H``, ``D-H:M``,
    ``D-H:M:S``) in whole minutes, rounded up."""
    match = re.fullmatch(r'(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?', text)
    if not match:
        raise ValueError(f'--time {text!r}: give a slurm time limit, e.g. '
                         '4:00:00 or 1-00:00:00')
    days, a, b, c = (int(g) if g else 0 for g in match.groups())
    if match.group(1):  # D-H[:M[:S]]
        seconds = ((days * 24 + a) * 60 + b) * 60 + c
    elif match.group(4):  # H:M:S
        seconds = (a * 60 + b) * 60 + c
    else:  # M[:S]
        seconds = a * 60 + b
    return max(1, -(-seconds // 60))


def _sbatch_parameters(args: Sequence[str]) -> Dict[str, object]:
    """``--key=value`` / ``--flag`` as submitit's additional parameters."""
    extra: Dict[str, object] = {}
    for arg in args:
        match = re.fullmatch(r'--([A-Za-z][\w-]*)(?:=(.*))?', arg)
        if not match:
            raise ValueError(f'--sbatch-arg {arg!r}: give one sbatch option '
                             'as --name=value or --flag')
        extra[match.group(1)] = True if match.group(2) is None \
            else match.group(2)
    return extra


def submit_slurm(sweep: Sweep, out: str, cells: Sequence[Cell],
                 cli_options: Dict[str, object], time_limit: str,
                 partition: str = '', cpus_per_task: int = 4,
                 max_parallel: int = 0, sbatch_args: Sequence[str] = (),
                 signal_delay_s: int = SIGNAL_DELAY_S) -> List[object]:
    """Submits the ``cells`` as one job array through submitit, one task a
    cell on one GPU, each ``CellJob`` with the command line's
    ``cli_options``; ``time_limit`` per task (submitit tells a time-out
    from a preemption by it).  Returns submitit's jobs; the script and the
    tasks' output are in ``<out>/slurm/``."""
    submitit = _submitit()
    if not cells:
        raise ValueError('no cells to submit: the sweep is finished '
                         '(build its table with --collect)')
    if not time_limit:
        raise ValueError(
            '--launcher slurm needs --time, each task\'s limit (e.g. '
            '4:00:00): a task warned before it saves and is requeued, and '
            'submitit tells a time-out from a preemption by it')
    executor = submitit.SlurmExecutor(folder=osp.join(out, 'slurm', '%j'),
                                      max_num_timeout=MAX_REQUEUES)
    extra = {'requeue': True, **_sbatch_parameters(sbatch_args)}
    if partition:
        extra['partition'] = partition
    executor.update_parameters(
        job_name=f'reproduce_{sweep.name}', time=slurm_minutes(time_limit),
        ntasks_per_node=1, gpus_per_node=1, cpus_per_task=cpus_per_task,
        signal_delay_s=signal_delay_s, stderr_to_stdout=True,
        array_parallelism=max_parallel or len(cells),
        # the tasks import this very dhkd_det (a checkout's, or the one
        # installed), and their runs its train command
        setup=[f'export PYTHONPATH={shlex.quote(REPO)}'
               '${PYTHONPATH:+:$PYTHONPATH}'],
        additional_parameters=extra)
    job = CellJob(sweep.file, out, cli_options, os.getcwd())
    return executor.map_array(job, [c.id for c in cells])
