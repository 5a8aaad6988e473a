"""Fill the paper's table: every teacher / student pair x method x seed of
a sweep file, each in its own work dir, then the table (mean ± std over
seeds beside the published numbers) and a figure of the spread.

    python tools/reproduce.py configs/sweeps/cifar100_paper.py --per-gpu 2
    python tools/reproduce.py SWEEP --launcher slurm --partition gpu
    python tools/reproduce.py SWEEP --collect      # the table, any time
    python tools/reproduce.py SWEEP --only res32x4_res8x4/dkd/seed_0

Rerunning the same command finishes the table: finished cells are skipped,
interrupted ones resume from their last checkpoint, failed ones are retried.
Results go to --out (default work_dirs/sweeps/<sweep>/): one work dir per
cell (<pair>/<method>/seed_<seed>/, with its override config), table.md,
table.csv and spread.png.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from dhkd_det.experiments.slurm import slurm_script, submit_slurm  # noqa
from dhkd_det.experiments.sweep import (  # noqa: E402
    cell_dir, cell_state, device_slots, failure_report, load_sweep,
    parse_cell, run_cell, run_local, visible_devices)
from dhkd_det.experiments.sweep_table import collect  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('sweep', help='a sweep file, e.g. '
                        'configs/sweeps/cifar100_paper.py')
    parser.add_argument('--out', help='output folder')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, help='overrides for every run (over the '
                        "sweep file's cfg_options)")
    parser.add_argument('--per-gpu', type=int, default=1,
                        help='concurrent runs per visible GPU')
    parser.add_argument('--launcher', choices=['local', 'slurm'],
                        default='local')
    parser.add_argument('--only', help='run this one cell '
                        '(<pair>/<method>/seed_<seed>), as a slurm task does')
    parser.add_argument('--collect', action='store_true',
                        help='only build the table from the work dirs')
    slurm = parser.add_argument_group('slurm (--launcher slurm)')
    slurm.add_argument('--partition', default='')
    slurm.add_argument('--time', default='', help='per task, e.g. 2:00:00')
    slurm.add_argument('--cpus-per-task', type=int, default=4)
    slurm.add_argument('--max-parallel', type=int, default=0,
                       help='tasks running at once (0: no cap)')
    slurm.add_argument('--sbatch-arg', action='append', default=[],
                       help='another #SBATCH line, e.g. --sbatch-arg=--qos=x')
    return parser.parse_args()


def main():
    args = parse_args()
    sweep = load_sweep(args.sweep, args.cfg_options)
    out = osp.abspath(args.out or osp.join('work_dirs', 'sweeps', sweep.name))
    if args.only:
        cell = parse_cell(args.only)
        if cell not in sweep.cells():
            sys.exit(f'--only {args.only}: not a cell of {args.sweep}')
        outcome = run_cell(sweep, out, cell)
        print(f'{cell.id}: {outcome.status} ({cell_dir(out, cell)})')
        if outcome.status == 'failed':
            sys.exit(failure_report(out, outcome))
        return
    if args.launcher == 'slurm' and not args.collect:
        todo = [c for c in sweep.cells()
                if cell_state(cell_dir(out, c)) != 'finished']
        answer = submit_slurm(slurm_script(
            sweep, out, todo, args.cfg_options, args.partition, args.time,
            args.cpus_per_task, args.max_parallel, args.sbatch_arg), out)
        print(f'{answer}: {len(todo)} cells as one job array '
              f'({out}/slurm/array.sh); when it has run: python '
              f'tools/reproduce.py {args.sweep} --out {out} --collect')
        return
    failed = []
    if not args.collect:
        slots = device_slots(visible_devices(), args.per_gpu)
        outcomes = run_local(sweep, out, sweep.cells(), slots,
                             say=lambda line: print(line, flush=True))
        failed = [o.cell.id for o in outcomes if o.status == 'failed']
    table = collect(sweep, out)
    print(table['markdown'])
    print('written: ' + ', '.join(table['files']))
    if failed:
        sys.exit(f'{len(failed)} cells failed ({", ".join(failed)}); rerun '
                 'the same command to retry them')


if __name__ == '__main__':
    main()
