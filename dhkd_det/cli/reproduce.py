"""Fill the paper's table: every teacher / student pair x method x seed of
a sweep file, each in its own work dir, then the table (mean ± std over
seeds beside the published numbers) and a figure of the spread.

    python tools/reproduce.py configs/sweeps/cifar100_paper.py --per-gpu 2
    python tools/reproduce.py configs/sweeps/digit_pairs_study.py --cpu-runs 2
    python tools/reproduce.py SWEEP --launcher slurm --partition gpu --time 4:00:00
    python tools/reproduce.py SWEEP --collect      # the table, any time
    python tools/reproduce.py SWEEP --only res32x4_res8x4/dkd/seed_0

Rerunning the same command finishes the table: finished cells are skipped,
interrupted ones resume from their last checkpoint, failed ones are retried.
Ctrl-C (SIGINT) or SIGTERM stops it cleanly: the running cells save, the
table is written, and the exit status is 75.  Results go to --out (default
work_dirs/sweeps/<sweep>/): one work dir per cell
(<pair>/<method>/seed_<seed>/, with its override config and the run's
train_stdout.log), table.md, table.csv and spread.png.
"""
import argparse
import os.path as osp
import sys


from dhkd_det.checks import CfgOptionsAction  # noqa: E402
from dhkd_det.apis.failed_start import run_tool  # noqa: E402
from dhkd_det.experiments.slurm import submit_slurm  # noqa: E402
from dhkd_det.experiments.sweep_preflight import check_cells  # noqa: E402
from dhkd_det.experiments.sweep import (  # noqa: E402
    PREEMPTED_EXIT_CODE, SweepInUse, cell_dir, cell_state, cpu_run_threads,
    device_slots, failure_report, load_sweep, parse_cell, run_cell, run_local,
    stop_on_signals, sweep_lock, visible_devices)
from dhkd_det.experiments.sweep_table import collect  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('sweep', help='a sweep file, e.g. '
                        'configs/sweeps/cifar100_paper.py')
    parser.add_argument('--out', help='output folder')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        default={}, help='overrides for every run (over the '
                        "sweep file's cfg_options)")
    parser.add_argument('--per-gpu', type=int, default=1,
                        help='concurrent runs per visible GPU')
    parser.add_argument(
        '--cpu-runs', type=int, default=1,
        help='concurrent runs on a machine without GPUs, the cores shared '
        'out among them (OMP_NUM_THREADS, unless it is set); small models '
        'use one core nearly as well as two, so on a CPU machine runs side '
        'by side finish a sweep sooner than one run with every core')
    parser.add_argument('--launcher', choices=['local', 'slurm'],
                        default='local', help='local: a process pool on '
                        'this machine; slurm: a job array through submitit')
    parser.add_argument('--only', help='run this one cell '
                        '(<pair>/<method>/seed_<seed>) and no other')
    parser.add_argument('--collect', action='store_true',
                        help='only build the table from the work dirs')
    slurm = parser.add_argument_group('slurm (--launcher slurm)')
    slurm.add_argument('--partition', default='')
    slurm.add_argument('--time', default='', help='per task, e.g. 4:00:00 '
                       '(required: a task warned before it saves and is '
                       'requeued)')
    slurm.add_argument('--cpus-per-task', type=int, default=4)
    slurm.add_argument('--max-parallel', type=int, default=0,
                       help='tasks running at once (0: no cap)')
    slurm.add_argument('--sbatch-arg', action='append', default=[],
                       help='another sbatch option, e.g. --sbatch-arg=--qos=x')
    return parser.parse_args()


def table(sweep, out) -> list:
    """Writes and prints the table; returns why each damaged cell was left
    out of it."""
    written = collect(sweep, out)
    print(written['markdown'])
    print('written: ' + ', '.join(written['files']), flush=True)
    return written['damaged']


def damaged_exit(damaged: list) -> None:
    sys.exit(f'{len(damaged)} cells have a damaged results.json, left out '
             'of the table:\n' + '\n'.join(f'- {why}' for why in damaged)
             + '\nrerun the same command without --collect to run them '
             'again (resumed from their checkpoints)')


def main():
    args = parse_args()
    sweep = load_sweep(args.sweep, args.cfg_options)
    out = osp.abspath(args.out or osp.join('work_dirs', 'sweeps', sweep.name))
    if args.collect:
        damaged = table(sweep, out)
        if damaged:
            damaged_exit(damaged)
        return
    if args.only:
        cell = parse_cell(args.only)
        if cell not in sweep.cells():
            sys.exit(f'--only {args.only}: not a cell of {args.sweep}')
        try:
            with sweep_lock(out, shared=True), stop_on_signals():
                outcome = run_cell(sweep, out, cell,
                                   say=lambda line: print(line, flush=True))
        except SweepInUse as err:
            sys.exit(str(err))
        print(f'{cell.id}: {outcome.status} ({cell_dir(out, cell)})')
        if outcome.status == 'failed':
            sys.exit(failure_report(out, outcome))
        if outcome.status in ('stopped', 'not started'):
            sys.exit(PREEMPTED_EXIT_CODE)
        return
    if args.launcher == 'slurm':
        todo = [c for c in sweep.cells()
                if cell_state(cell_dir(out, c)) != 'finished']
        check_cells(sweep, todo, out)  # every input, before anything is queued
        try:
            jobs = submit_slurm(sweep, out, todo, args.cfg_options,
                                args.time, args.partition, args.cpus_per_task,
                                args.max_parallel, args.sbatch_arg)
        except (RuntimeError, ValueError) as err:
            sys.exit(f'--launcher slurm: {err}')
        array = jobs[0].job_id.split('_')[0]
        print(f'Submitted batch job {array}: {len(todo)} cells as one job '
              f'array through submitit (script and logs in {out}/slurm/); '
              f'when it has run: python tools/reproduce.py {args.sweep} '
              f'--out {out} --collect')
        return
    try:
        slots = device_slots(visible_devices(), args.per_gpu, args.cpu_runs)
    except ValueError as err:
        sys.exit(str(err))
    try:
        with sweep_lock(out), stop_on_signals() as children:
            outcomes = run_local(sweep, out, sweep.cells(), slots,
                                 say=lambda line: print(line, flush=True),
                                 cpu_threads=cpu_run_threads(args.cpu_runs))
            damaged = table(sweep, out)
    except SweepInUse as err:
        sys.exit(str(err))
    failed = [o.cell.id for o in outcomes if o.status == 'failed']
    if children.stopping:
        saved = [o.cell.id for o in outcomes if o.status == 'stopped']
        print(f'stopped: {len(saved)} running cells saved'
              + (f' ({", ".join(saved)})' if saved else '')
              + (f', {len(failed)} failed ({", ".join(failed)})'
                 if failed else '')
              + '; rerun the same command to continue', flush=True)
        sys.exit(PREEMPTED_EXIT_CODE)
    if failed:
        sys.exit(f'{len(failed)} cells failed ({", ".join(failed)}); rerun '
                 'the same command to retry them')
    if damaged:
        damaged_exit(damaged)



def run():
    """The command (``dhkd-reproduce``, ``tools/reproduce.py``): ``main`` with a failed
    start's short console report (the traceback goes to the log)."""
    run_tool(main, 'reproduce')


if __name__ == '__main__':
    run()
