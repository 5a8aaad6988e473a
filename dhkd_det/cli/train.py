"""Train a DHKD distiller, a baseline or a teacher (MMDetection's flags).

    python tools/train.py configs/dhkd/cifar100_res32x4_res8x4.py
    python tools/train.py CONFIG --work-dir DIR --resume [CKPT] --amp \
        --cfg-options model.teacher_ckpt=PATH train_cfg.max_epochs=10
    python tools/train.py CONFIG --cuda-graph    # the step as one CUDA graph
"""
import argparse
import os
import os.path as osp

from mmengine.logging import print_log  # noqa: E402

import dhkd_det  # noqa: E402,F401  registers the modules
from dhkd_det.checks import CfgOptionsAction  # noqa: E402
from dhkd_det.checks import check_label_range, check_preflight  # noqa: E402
from dhkd_det.checkpoint import check_load_from, check_resume  # noqa: E402
from dhkd_det.apis import (  # noqa: E402
    apply_amp, apply_cuda_graph, build_runner, close_distributed,
    init_cpu_process_group, load_config)
from dhkd_det.apis.always_on_hooks import add_always_on_hooks  # noqa: E402
from dhkd_det.apis.dhkd_runner import train_loaders  # noqa: E402
from dhkd_det.apis.failed_start import note_work_dir, run_tool  # noqa
from dhkd_det.apis.held_console import (  # noqa: E402
    ReleaseConsoleHook, hold_console)
from dhkd_det.apis.newest_checkpoint import (  # noqa: E402
    checkpoint_dir, newest_complete_checkpoint)
from dhkd_det.apis.train_length import check_train_length  # noqa: E402
from dhkd_det.apis.work_dir_lock import work_dir_lock  # noqa: E402
from dhkd_det.engine.hooks.preemption_hook import Preempted  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model.')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true',
                        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--cuda-graph', action='store_true',
        help='capture the whole training step (augmentation, both '
        'forwards, losses, backward, SGD update) as one CUDA graph and '
        'replay it: model.cuda_graph=True, classification distillers')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr with the total batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or without a value from the '
        'latest checkpoint in the work dir')
    parser.add_argument(
        '--partial-load', action='store_true',
        help='start from a load_from checkpoint that fits the model only '
        'partly: load the weights whose names and shapes fit and keep the '
        'rest at their initialisation (logged). Without it such a '
        'checkpoint is refused')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config keys, e.g. '
                        'model.teacher_ckpt=PATH train_cfg.max_epochs=10')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def resume_point(resume, cfg):
    """Set ``cfg`` to resume from ``--resume``'s checkpoint or, without a
    path, from the newest complete one in the work dir; returns it and how
    the error messages name where it came from."""
    if resume is None:
        return None, ''
    named_by = ''
    if resume == 'auto':
        ckpt_dir = checkpoint_dir(cfg)
        resume = newest_complete_checkpoint(cfg.work_dir, ckpt_dir)
        named_by = ' (the newest complete one in {})'.format(
            ' and '.join([cfg.work_dir] + ([ckpt_dir] if ckpt_dir else [])))
        print_log(f'--resume: resuming from {resume}{named_by}' if resume
                  else f'--resume: {cfg.work_dir} holds no complete '
                  'checkpoint, starting from scratch', 'current')
        if resume is None:
            return None, ''
    cfg.resume = True
    cfg.load_from = resume
    return resume, named_by


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    note_work_dir(cfg.work_dir)  # where a failure's traceback goes
    if args.cuda_graph:
        apply_cuda_graph(cfg)  # before --amp, which then picks bfloat16
    if args.amp:
        apply_amp(cfg)
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in \
                cfg.auto_scale_lr:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr = dict('
                           'enable=True, base_batch_size=N)` in the config')
        cfg.auto_scale_lr.enable = True
    check_train_length(cfg)
    add_always_on_hooks(cfg)
    if args.partial_load and args.resume is not None:
        raise ValueError('--partial-load applies to load_from, not to '
                         '--resume (a run resumes only from its own '
                         'checkpoint): drop one of the two')
    if args.resume is not None and args.resume != 'auto' and \
            not osp.isfile(args.resume):
        raise FileNotFoundError(f'--resume {args.resume}: no such file')
    loaders = train_loaders(cfg)
    # everything missing or unreachable, in one report, nothing built yet
    check_preflight(cfg, loaders, subject=args.config)
    # before the runner opens its log files in the work dir
    with work_dir_lock(cfg.work_dir):
        # looked for under the lock: no other run writes there meanwhile
        resume_from, named_by = resume_point(args.resume, cfg)
        init_cpu_process_group(cfg)
        # MMEngine's environment / config dump: printed once the run has
        # started, or kept in the failure's log if it does not start
        hold_console()
        runner = build_runner(cfg)
        runner.register_hook(ReleaseConsoleHook())
        runner.prepared = True  # a DHKDRunner: checked and locked here
        if resume_from is not None:
            check_resume(runner, resume_from, named_by)
        elif not cfg.get('resume'):  # `resume=True` in a config resumes
            check_load_from(runner, cfg.get('load_from'), args.partial_load)
        check_label_range(runner, loaders)
        try:
            runner.train()
        except Preempted:
            close_distributed()  # every rank stopped at the same iteration
            raise
        close_distributed()



def run():
    """The command (``dhkd-train``, ``tools/train.py``): ``main`` with a failed
    start's short console report (the traceback goes to the log)."""
    run_tool(main, 'train')


if __name__ == '__main__':
    run()
