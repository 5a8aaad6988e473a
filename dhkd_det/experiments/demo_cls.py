"""The offline classification demo: DHKD's deciding experiment, end to end, on
real data that ships with scikit-learn, in about 2 minutes on 2 CPU cores.

scikit-learn's handwritten digits (1,797 8x8 grey images, 10 classes) are
upsampled to 32x32 RGB and written in CIFAR's on-disk layout; then, through
the very configs and runner `tools/train.py` uses (shrunk only in classes,
epochs and loader workers; horizontal flips off, as a mirrored digit is not a
digit):
  1. a resnet20 teacher trained with CE for 30 epochs
     (configs/teachers/cifar100_resnet56.py, its network set to resnet20),
     cached: a later run with the same config, data, seed, epochs and torch
     version reuses it instead of training it again;
  2. the ablation of tools/analysis/ablate_heads.py on the DHKD config
     (configs/dhkd/cifar100_res56_res20.py, its pair set to resnet20 ->
     resnet8): the same resnet8 student, seed and schedule trained with
       ce_only        CE on its one head (the student alone)
       logit_only     BinaryKLNorm on its one head
       one_head_both  CE + BinaryKLNorm on one shared head
       dhkd           CE on the main head, BinaryKLNorm on an aux head
     (--ga adds dhkd_ga, DHKD with gradient alignment; --seeds 0 1 2
     repeats each over seeds), each with the gradient diagnostics and
     neural-collapse metrics logged;
and prints the teacher's top-1 and the ablation table, and saves the curves
(demo_runs/ablation/plots/ablation.png is the one-figure overview).

The teacher trains longer than the students (30 epochs, not 12): to be
worth learning from, it has to beat the student alone clearly, not by a
digit or two of the 450 held out.  The numbers are deterministic for one
machine and library build, not across machines.
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import shutil
import time
from typing import Callable, Sequence

import torch

from ..analysis import read_run
from ..apis import load_config, train_in_process
from ..datasets import digits_as_cifar
from ..utils.quiet import silence_library_warnings
from ..utils.paths import CONFIG_ROOT
from .ablation import DEFAULT_VARIANTS, run_ablation

TEACHER, STUDENT = 'resnet20', 'resnet8'
TEACHER_CONFIG = osp.join(CONFIG_ROOT, 'configs', 'teachers', 'cifar100_resnet56.py')
DHKD_CONFIG = osp.join(CONFIG_ROOT, 'configs', 'dhkd', 'cifar100_res56_res20.py')
#: the teacher's record in its cache folder, written once it has trained
TEACHER_RECORD = 'teacher.json'


def shrink_options(data_root: str, epochs: int, seed=None) -> dict:
    """What the demo changes in the CIFAR-100 configs: the data, classes,
    epochs (milestones scaled from 240), no workers, validation every epoch
    (curves), no flips, quiet logging."""
    milestones = [max(1, epochs * m // 240) for m in (150, 180, 210)]
    options = {
        'train_cfg.max_epochs': epochs,
        'train_cfg.val_interval': 1,
        'param_scheduler.milestones': milestones,
        'default_hooks.checkpoint.interval': epochs,
        # a mirrored digit is not a digit: the recipe's flip stays off here
        'model.data_preprocessor.flip': False,
        'model.student.network.num_classes': 10,
        'log_level': 'WARNING',
    }
    if seed is not None:  # (the ablation's runs have theirs in their config)
        options['randomness.seed'] = seed
    for split in ('train', 'val', 'test'):
        options.update({
            f'{split}_dataloader.dataset.data_root': data_root,
            f'{split}_dataloader.dataset.check_md5': False,
            f'{split}_dataloader.num_workers': 0,
            f'{split}_dataloader.persistent_workers': False,
        })
    return options


def teacher_options(data_root: str, epochs: int, seed: int) -> dict:
    return {**shrink_options(data_root, epochs, seed),
            'model.student.network.type': TEACHER}


def student_options(data_root: str, epochs: int, teacher_ckpt: str) -> dict:
    return {**shrink_options(data_root, epochs),
            'model.student.network.type': STUDENT,
            'model.teacher.type': TEACHER,
            'model.teacher.num_classes': 10,
            'model.teacher_ckpt': teacher_ckpt}


def last_top1(work_dir: str) -> float:
    return read_run(work_dir).series('val', 'top1')[1][-1]


def teacher_key(options: dict, data_root: str) -> str:
    """Everything that decides the trained teacher, hashed: the merged
    config's text (network, schedule, seed, epochs, data root), the bytes
    of the data files, and the torch version."""
    digest = hashlib.sha256()
    cfg = load_config(TEACHER_CONFIG, options, work_dir='')
    digest.update(cfg.pretty_text.encode())
    for folder, _, files in sorted(os.walk(data_root)):
        for name in sorted(files):
            path = osp.join(folder, name)
            digest.update(osp.relpath(path, data_root).encode())
            with open(path, 'rb') as f:
                digest.update(hashlib.sha256(f.read()).digest())
    digest.update(torch.__version__.encode())
    return digest.hexdigest()


def cached_teacher(cache: str, data_root: str, epochs: int, seed: int,
                   say: Callable[[str], None] = print) -> dict:
    """The demo's teacher trained on ``data_root``: from ``cache`` when a
    run before trained it with the same ``teacher_key``, else trained now
    into ``cache/<network>-<key>/`` (a folder a run left unfinished is
    trained again from scratch).  Returns its record: network, epochs,
    seed, top1, checkpoint, key, cached (whether it was reused)."""
    options = teacher_options(data_root, epochs, seed)
    key = teacher_key(options, data_root)
    work_dir = osp.join(cache, f'{TEACHER}-{key[:16]}')
    record_file = osp.join(work_dir, TEACHER_RECORD)
    if osp.isfile(record_file):
        with open(record_file) as f:
            record = json.load(f)
        if record.get('key') == key and osp.isfile(record['checkpoint']):
            say(f'the teacher, {TEACHER} (CE, {epochs} epochs, seed {seed}) '
                f'trained by an earlier run: {work_dir} (delete it to train '
                'it again)')
            return {**record, 'cached': True}
    shutil.rmtree(work_dir, ignore_errors=True)
    say(f'the teacher, {TEACHER} trained with CE for {epochs} epochs '
        f'(kept in {work_dir} for later runs)')
    label = f'teacher {TEACHER}'
    train_in_process(TEACHER_CONFIG, options, work_dir, label,
                     [dict(type='ProgressHook', label=label)])
    record = dict(network=TEACHER, epochs=epochs, seed=seed,
                  top1=last_top1(work_dir),
                  checkpoint=osp.join(work_dir, f'epoch_{epochs}.pth'),
                  key=key, torch=torch.__version__)
    partial = record_file + '.part'
    with open(partial, 'w') as f:  # whole or not at all
        json.dump(record, f, indent=1)
    os.replace(partial, record_file)
    return {**record, 'cached': False}


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def argument_parser(parents: Sequence[argparse.ArgumentParser] = ()
                    ) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()),
        parents=list(parents),
        epilog='The teacher is cached in WORK_DIR/teacher_cache/, one '
        'folder per teacher keyed by its config text, data, seed, epochs '
        'and torch version: a second run with the same ones skips training '
        'it.  Delete the folder to train it again.')
    parser.add_argument('--work-dir', default='demo_runs',
                        help='data, teacher cache, runs and results.json')
    parser.add_argument('--epochs', type=_at_least_one, default=12,
                        help='epochs of every student')
    parser.add_argument('--teacher-epochs', type=_at_least_one, default=30,
                        help=f'epochs of the {TEACHER} teacher: more than '
                        "the students', so that it clearly beats the "
                        'student alone')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0],
                        help='seeds of the students (mean ± std over them '
                        'in the table); the data split and the teacher use '
                        'the first')
    parser.add_argument('--ga', action='store_true',
                        help='also run DHKD with gradient alignment')
    parser.add_argument('--max-train', type=int, default=0,
                        help='use only this many training images')
    parser.add_argument('--smoke', action='store_true',
                        help='1 epoch on 96 training images (tests)')
    return parser


def run_demo(args: argparse.Namespace) -> dict:
    """Runs the demo ``argument_parser`` describes, prints its results and
    writes them to WORK_DIR/results.json; returns them."""
    if args.smoke:
        args.epochs = args.teacher_epochs = 1
        args.max_train = args.max_train or 96
    silence_library_warnings()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    start = time.time()
    work = osp.abspath(args.work_dir)
    data_root = osp.join(work, 'data')
    sizes = digits_as_cifar(data_root, args.max_train, seed=args.seeds[0])

    def say(line: str) -> None:
        print(f'[demo] {line}', flush=True)

    say(f'digits in CIFAR layout at {data_root}: {sizes["train"]} train / '
        f'{sizes["test"]} test images')
    teacher = cached_teacher(osp.join(work, 'teacher_cache'), data_root,
                             args.teacher_epochs, args.seeds[0],
                             say=lambda line: say(f'1/2: {line}'))

    variants = list(DEFAULT_VARIANTS) + (['dhkd_ga'] if args.ga else [])
    say(f'2/2: the {STUDENT} student, {args.epochs} epochs, one run per '
        f'variant: {", ".join(variants)}')
    result = run_ablation(
        DHKD_CONFIG, osp.join(work, 'ablation'), variants, args.seeds,
        options=student_options(data_root, args.epochs,
                                teacher['checkpoint']),
        in_process=True, say=say, title=f'digits, {TEACHER} -> {STUDENT}')

    print(f'\nDHKD offline demo: scikit-learn digits at 32x32 '
          f'({sizes["train"]} train / {sizes["test"]} test images), seeds '
          f'{" ".join(map(str, args.seeds))}, {time.time() - start:.0f} s '
          'in all' + (' (the teacher cached)' if teacher['cached'] else ''))
    alone = [r for r in result['rows'] if r['variant'] == 'ce_only']
    print(f'teacher {TEACHER} (CE, {args.teacher_epochs} epochs): top-1 '
          f'{teacher["top1"]:.2f}%' + (
              f' (the student alone: {alone[0]["top-1 last"]}%)' if alone
              else '') + '\n')
    print(f'student {STUDENT}, {args.epochs} epochs per variant '
          '(cos_*: last cosine between the CE and BinaryKLNorm gradients; '
          'conflict_*: fraction of measured steps where it was negative; '
          'nc1 / nc2_etf: neural collapse of the penultimate features):')
    print(result['table'])
    print(f'\nfigure: {result["overview"]}\nall curves: '
          f'{osp.dirname(result["overview"])}/')
    results = dict(teacher=teacher, student=STUDENT,
                   ablation=result['rows'], figure=result['overview'])
    with open(osp.join(work, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    return results
