"""A sweep on a slurm cluster: one job array, one task per unfinished cell,
each task the sweep's own command with ``--only <cell>`` (so a task resumes
as a local run does); slurm does the scheduling."""
import os
import os.path as osp
import shlex
import subprocess
import sys
from typing import Dict, Sequence

from ..checkpoint.atomic_file import atomic_write_text
from .sweep import REPO, Cell, Sweep, option_args


def slurm_script(sweep: Sweep, out: str, cells: Sequence[Cell],
                 cli_options: Dict[str, object], partition: str = '',
                 time_limit: str = '', cpus_per_task: int = 4,
                 max_parallel: int = 0, sbatch_args: Sequence[str] = ()
                 ) -> str:
    """A job array, one task per cell on one GPU, each task running
    ``tools/reproduce.py <sweep> --out <out> --only <cell>`` (with the
    command line's ``cli_options``) so that a task is resumable as a local
    run is; ``max_parallel`` caps the tasks running at once."""
    if not cells:
        raise ValueError('no cells to submit: the sweep is finished '
                         '(build its table with --collect)')
    array = f'0-{len(cells) - 1}' + (f'%{max_parallel}' if max_parallel
                                     else '')
    lines = ['#!/usr/bin/env bash',
             f'#SBATCH --job-name=reproduce_{sweep.name}',
             f'#SBATCH --array={array}',
             '#SBATCH --ntasks=1',
             '#SBATCH --gres=gpu:1',
             f'#SBATCH --cpus-per-task={cpus_per_task}',
             f'#SBATCH --output={osp.join(out, "slurm", "%A_%a.out")}']
    if partition:
        lines.append(f'#SBATCH --partition={partition}')
    if time_limit:
        lines.append(f'#SBATCH --time={time_limit}')
    lines += [f'#SBATCH {arg}' for arg in sbatch_args]
    command = ' '.join(shlex.quote(a) for a in (
        sys.executable, osp.join(REPO, 'tools', 'reproduce.py'), sweep.file,
        '--out', out, '--only')) + ' "$CELL"'
    options = option_args(cli_options)
    if options:
        command += ' ' + ' '.join(shlex.quote(a) for a in options)
    lines += ['set -euo pipefail',
              f'cd {shlex.quote(os.getcwd())}',
              'CELLS=(' + ' '.join(shlex.quote(c.id) for c in cells) + ')',
              'CELL=${CELLS[$SLURM_ARRAY_TASK_ID]}',
              command]
    return '\n'.join(lines) + '\n'


def submit_slurm(script: str, out: str) -> str:
    """Writes ``script`` to ``<out>/slurm/array.sh`` and submits it with
    ``sbatch``; returns sbatch's answer (the job id)."""
    folder = osp.join(out, 'slurm')
    os.makedirs(folder, exist_ok=True)
    path = osp.join(folder, 'array.sh')
    atomic_write_text(path, script)
    try:
        proc = subprocess.run(['sbatch', path], capture_output=True,
                              text=True)
    except FileNotFoundError as err:
        raise RuntimeError(
            f'--launcher slurm: sbatch is not on PATH ({err}); run on a '
            f'slurm login node, or submit {path} by hand') from err
    if proc.returncode:
        raise RuntimeError(f'sbatch {path} failed ({proc.returncode}):\n'
                           f'{proc.stdout}{proc.stderr}')
    return proc.stdout.strip()
