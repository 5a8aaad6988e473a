"""Building and running MMEngine's runner, the one way every tool, demo and
experiment starts a run: ``build_runner`` for a loaded config, and the run
launcher, which trains a config file with overrides in a work dir either in
this process (``train_in_process``) or in a child process through
``python -m dhkd_det.cli.train``, the ``dhkd-train`` command
(``train_in_subprocess``: a child process, not an import of the higher
layer).  Both start from the same ``run_config``."""
import os
import os.path as osp
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..utils.paths import child_env
from ..utils.quiet import not_deprecation_notice
from .config import load_config

#: the module a subprocess run goes through: the package's train command
#: (``dhkd-train``, ``tools/train.py``), so that the child checks data,
#: labels and resumed checkpoints as users' runs
TRAIN_MODULE = 'dhkd_det.cli.train'
#: the command line that reruns such a run by hand
TRAIN_COMMAND = f'python -m {TRAIN_MODULE}'


def init_cpu_process_group(cfg: Config) -> None:
    """Under ``--launcher pytorch`` on a machine without CUDA, start the
    gloo process group before the runner is built: MMEngine's ``init_dist``
    calls ``torch.cuda.set_device``, which fails there, and reuses a group
    that exists already.  Elsewhere it does nothing."""
    if cfg.get('launcher', 'none') == 'pytorch' and \
            not torch.cuda.is_available() and not dist.is_initialized():
        dist.init_process_group(backend='gloo')


def build_runner(cfg: Config) -> Runner:
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def run_config(config: str, options: Optional[dict], work_dir: str,
               name: Optional[str] = None,
               hooks: Sequence[dict] = ()) -> Config:
    """The config a launched run trains: ``config`` with ``options``
    (MMEngine's ``--cfg-options`` keys, checked as ``tools/train.py`` checks
    them) in ``work_dir``, ``hooks`` added to its custom_hooks.

    ``name`` names the run's logger and visualizer instances.  MMEngine
    hands a Runner the existing instance of a name, and by default the name
    is the start second (or MMDetection's fixed 'visualizer'), so a later
    run in the same process would write its scalars into an earlier run's
    work dir; runs that follow each other in one process need unique names.
    """
    cfg = load_config(config, options, work_dir)
    if name is not None:
        cfg.experiment_name = name.replace(' ', '_')
        if cfg.get('visualizer'):
            cfg.visualizer.pop('name', None)  # then it takes the run's name
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + list(hooks)
    return cfg


def train_in_process(config: str, options: dict, work_dir: str, name: str,
                     hooks: Sequence[dict] = ()) -> Config:
    """Trains ``run_config(config, options, work_dir, name, hooks)`` to the
    end in this process, MMEngine's deprecation notices kept off the
    console; returns the merged config.  Several runs may follow each other
    in one process (the demos): ``name`` must be unique among them."""
    cfg = run_config(config, options, work_dir, name, hooks)
    # MMEngine's own Runner, as before DHKDRunner existed: an in-process
    # run (the demos' teacher, tests) is not resumed, and the always-on
    # RngStateHook (which keeps validation's random draws out of training)
    # would change the numbers its tables were published with
    cfg.runner_type = 'Runner'
    runner = build_runner(cfg)
    runner.logger.addFilter(not_deprecation_notice)
    runner.train()
    return cfg


class RunFailed(RuntimeError):
    """A subprocess run exited with a non-zero status."""


@dataclass(frozen=True)
class SubprocessRun:
    """What a child run left: the merged config file it trained (rerun it
    by hand with ``tools/train.py CONFIG --work-dir WORK_DIR``), its work
    dir, exit status and console output (stdout and stderr)."""
    config: str
    work_dir: str
    returncode: int
    log: str

    def tail(self, chars: int = 3000) -> str:
        """The last ``chars`` characters of the console output."""
        with open(self.log, errors='replace') as f:
            return f.read()[-chars:]

    def check(self) -> 'SubprocessRun':
        """This run when it succeeded; else raise ``RunFailed`` with the
        output's tail and where the whole of it is."""
        if self.returncode:
            raise RunFailed(
                f'{self.tail()}\nthe run in {self.work_dir} failed (exit '
                f'status {self.returncode}; full output: {self.log}; rerun: '
                f'{TRAIN_COMMAND} {self.config} --work-dir '
                f'{self.work_dir})')
        return self


def train_in_subprocess(config: str, options: Optional[dict], work_dir: str,
                        name: Optional[str] = None,
                        hooks: Sequence[dict] = (),
                        resume: bool = False,
                        env: Optional[dict] = None,
                        popen: Callable[..., subprocess.Popen] =
                        subprocess.Popen) -> SubprocessRun:
    """Trains ``run_config(config, options, work_dir, name, hooks)`` in a
    child ``python -m dhkd_det.cli.train``; returns its ``SubprocessRun`` whatever
    its exit status (``.check()`` raises on failure).

    The merged config is written with MMEngine's own ``Config.dump`` where
    MMEngine's runner writes it (``work_dir/<config's file name>``), and the
    child trains that file: the overrides reach it as a real config, not as
    re-serialised ``--cfg-options``.  ``resume``: continue from the work
    dir's latest checkpoint (``tools/train.py --resume``, which checks it
    first), or start afresh when there is none; the console output is then
    appended to the earlier session's ``train_stdout.log``.  ``env`` is
    added to this process's environment for the child (e.g. its
    ``CUDA_VISIBLE_DEVICES``).  ``popen`` starts the child with
    ``subprocess.Popen``'s arguments and returns it (the sweep's own starts
    it in its own session, stopped with its driver); this call waits for
    it.
    """
    cfg = run_config(config, options, work_dir, name, hooks)
    os.makedirs(work_dir, exist_ok=True)
    merged = osp.join(work_dir, osp.basename(config))
    cfg.dump(merged)
    cmd = [sys.executable, '-m', TRAIN_MODULE, merged, '--work-dir',
           work_dir]
    if resume:
        cmd.append('--resume')
    log = osp.join(work_dir, 'train_stdout.log')
    with open(log, 'a' if resume else 'w') as f:
        proc = popen(cmd, stdout=f, stderr=subprocess.STDOUT,
                     env=child_env({**os.environ, **(env or {})}))
        proc.wait()
    return SubprocessRun(config=merged, work_dir=work_dir,
                         returncode=proc.returncode, log=log)


def close_distributed() -> None:
    """Tear the process group down before the interpreter exits: gloo's
    threads still alive at exit abort the process ('terminate called without
    an active exception') after an otherwise good run."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
