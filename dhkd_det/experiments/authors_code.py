"""The DHKD authors' own CIFAR code (github.com/penghui-yang/DHKD, argparse
scripts) trained on our benchmark beside ours, by the same recipe, and the
table that sets the two side by side (``tools/analysis/authors_dhkd.py``).

Why: a difference between our numbers and the paper's may come from our
implementation or from the benchmark and the recipe; their code run here,
on our data, teacher and schedule, tells the two apart.

Both sides start from one classification pair config of ours (a
``ClsDistiller`` config, ``--cfg-options`` applied).  For each variant the
override config our sweep trains (``methods.method_config``) is built, and
their command line is read off it: epochs, learning-rate milestones and
decay, learning rate, momentum, weight decay, batch size, student and
teacher networks, the loss weights and temperatures, the aux head's shape
and gradient alignment; what their scripts cannot express (another
optimizer, a warm-up, label smoothing, another crop or normalisation, not
100 classes) is refused with the key that says it.

Their side: each (variant, seed) is one child process,
``authors_bootstrap.py`` running their unchanged script in its own run
folder ``<out>/theirs/<variant>/seed_<seed>/``, which holds ``data`` (a
link to our data root), our teacher converted to their checkpoint format
under ``teachers/<arch>_vanilla/``, ``stdout.log`` (their console) and,
parsed from it, ``results.json`` (written atomically when the run ended
well) or ``failed.json``.  A finished run is never run again; a failed one
is run again from scratch (their scripts cannot resume).

Our side: the sweep's cells (``sweep.py``) of the same config, methods and
seeds, read from ``--ours-from`` (a sweep's output folder) where finished
there, else trained into ``<out>/ours/``.
"""
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.registry import MODELS

from ..analysis.summary import csv_table, markdown_table, mean_std
from ..checkpoint.atomic_file import atomic_path, atomic_write_text
from ..checkpoint.teacher import load_teacher_checkpoint
from .methods import method_config
from .sweep import (FAILED_FILE, RESULTS_FILE, TAIL_CHARS, Cell, Sweep,
                    cell_dir, cpu_run_env, cpu_run_threads, device_slots,
                    run_local, visible_devices)

#: the files of their checkout the harness runs or adapts
REQUIRED_FILES = ('train_student.py', 'train_teacher.py',
                  'dataset/cifar100.py')
BOOTSTRAP = osp.join(osp.dirname(osp.abspath(__file__)),
                     'authors_bootstrap.py')
STDOUT_LOG = 'stdout.log'
#: where their train_student.py finds the teacher: it parses the teacher's
#: architecture from the parent folder's name, CRD's layout
TEACHER_PATH = 'teachers/{arch}_vanilla/ckpt_epoch_240.pth'
#: what their dataset/cifar100.py hard-codes: RandomCrop(32, padding=4),
#: CIFAR-100's normalisation, 100 classes
THEIR_PAD_CROP = 4
THEIR_MEAN = (0.5071, 0.4867, 0.4408)
THEIR_STD = (0.2675, 0.2565, 0.2761)
THEIR_CLASSES = 100
#: students whose learning rate their scripts change: train_student.py
#: multiplies --learning_rate by 0.2, train_teacher.py sets 0.01
LR_CHANGED = ('MobileNetV2', 'ShuffleV1', 'ShuffleV2')
#: our zoo's names that their model_dict spells otherwise
THEIR_NAMES = {'mobile_half': 'MobileNetV2'}
#: |ours - theirs| (mean best top-1, points) that the table flags
FLAG_POINTS = 1.0

_EPOCH = re.compile(r'^epoch (\d+), total time')
_TOP1 = re.compile(r'^ \* Acc@1 ([\d.]+) Acc@5')
_NUMBER = r'\s*(?:tensor\()?([-+\d.eE]+)'
_BEST = re.compile(r'^best accuracy:' + _NUMBER)
_TEACHER = re.compile(r'^teacher accuracy:' + _NUMBER)


@dataclass(frozen=True)
class Variant:
    """One of their training modes and the method of our sweep that trains
    the same thing.  ``distill``: their ``--distill`` (None: their CE loop,
    ``train_teacher.py``); ``aux``: the aux head's shape, None for one
    head; ``ga``: gradient alignment."""
    method: str
    distill: Optional[str] = None
    aux: Optional[str] = None
    ga: bool = False

    @property
    def script(self) -> str:
        return 'train_student.py' if self.distill else 'train_teacher.py'


VARIANTS: Dict[str, Variant] = {
    'ce': Variant('ce'),
    'kd': Variant('kd', 'kd'),
    'dhkd_linear': Variant('dhkd_linear', 'dhkd', 'linear'),
    'dhkd_nonlinear_ga': Variant('dhkd_ga', 'dhkd', 'nonlinear', ga=True),
}


@dataclass
class TheirRun:
    """Their command line for one variant, less the seed (``-t``)."""
    variant: str
    script: str
    args: List[str]
    flip: bool
    data_root: str
    epochs: int
    #: their name of the teacher's architecture; None for the CE loop
    teacher: Optional[str] = None

    def command(self, repo: str, seed: int) -> List[str]:
        return [sys.executable, BOOTSTRAP, '--repo', repo, '--script',
                self.script, '--seed', str(seed)] + \
            ([] if self.flip else ['--no-flip']) + \
            ['--'] + self.args + ['-t', str(seed)]


# --- inputs ---------------------------------------------------------------

def check_authors_repo(path: str) -> str:
    """``path`` as an absolute path, if it is a checkout of their code."""
    if not osp.isdir(path):
        raise FileNotFoundError(
            f'--authors-repo {path!r} is not a folder: give a checkout of '
            'github.com/penghui-yang/DHKD (git clone '
            'https://github.com/penghui-yang/DHKD)')
    for name in REQUIRED_FILES:
        if not osp.isfile(osp.join(path, name)):
            raise FileNotFoundError(
                f'--authors-repo {path!r} has no {name}: it is not a '
                'checkout of github.com/penghui-yang/DHKD (their layout: '
                f'{", ".join(REQUIRED_FILES)}, models/, helper/, '
                'distiller_zoo/)')
    return osp.abspath(path)


def default_pair(config: str) -> str:
    """The pair's name in a sweep's folders, as ``sweep.pair_config`` names
    configs: the config's file name without ``cifar100_``."""
    name = osp.splitext(osp.basename(config))[0]
    return name[len('cifar100_'):] if name.startswith('cifar100_') else name


def cell_config(config: str, method: str, pair: str, seed: int,
                options: Dict[str, object]) -> Config:
    """The config our sweep trains for ``method`` on ``config`` (its
    override config with ``options`` over it, as ``tools/train.py
    --cfg-options`` applies them)."""
    cfg = Config.fromstring(method_config(method, pair, config, seed), '.py')
    cfg.merge_from_dict(options)
    return cfg


def their_name(arch: str) -> str:
    return THEIR_NAMES.get(arch, arch)


def _arg(value) -> str:
    """A number as their README writes it: ``1``, not ``1.0``."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _refuse(key: str, found, why: str) -> ValueError:
    return ValueError(f'{key} is {found!r}: {why}')


def _schedule(cfg: Config):
    """(epochs, milestones, decay) of a single epoch-based MultiStepLR."""
    scheds = cfg.get('param_scheduler')
    if isinstance(scheds, (list, tuple)) and len(scheds) == 1:
        scheds = scheds[0]
    if not isinstance(scheds, dict) or scheds.get('type') != 'MultiStepLR' \
            or not scheds.get('by_epoch', True):
        raise _refuse('param_scheduler', scheds, 'their scripts know one '
                      'schedule, a step decay at epochs '
                      '(--lr_decay_epochs, --lr_decay_rate): give one '
                      "dict(type='MultiStepLR', by_epoch=True, ...)")
    if cfg.train_cfg.get('val_interval', 1) != 1:
        raise _refuse('train_cfg.val_interval',
                      cfg.train_cfg.val_interval, 'their scripts validate '
                      'after every epoch: set it to 1 so that both sides '
                      'take the best over the same epochs')
    return (cfg.train_cfg.max_epochs, list(scheds.milestones),
            scheds.get('gamma', 0.1))


def _optimizer(cfg: Config) -> dict:
    wrapper = cfg.optim_wrapper
    extra = sorted(set(wrapper) - {'type', 'optimizer'})
    if extra:
        raise _refuse('optim_wrapper', dict(wrapper), 'their scripts have '
                      f'no equivalent of {extra}: leave them out')
    optimizer = wrapper.optimizer
    extra = sorted(set(optimizer) - {'type', 'lr', 'momentum',
                                     'weight_decay'})
    if optimizer.get('type') != 'SGD' or extra:
        raise _refuse('optim_wrapper.optimizer', dict(optimizer),
                      'their scripts train with SGD(lr, momentum, '
                      'weight_decay) and nothing else')
    return dict(lr=optimizer.lr, momentum=optimizer.get('momentum', 0),
                weight_decay=optimizer.get('weight_decay', 0))


def _data(cfg: Config):
    """(absolute data root, flip) after checking that their loader reads
    what ours reads."""
    root = cfg.train_dataloader.dataset.get('data_root')
    if not root or not osp.isdir(root):
        raise FileNotFoundError(
            f'train_dataloader.dataset.data_root {root!r} is not a folder: '
            'give the folder that holds cifar-100-python/ (e.g. '
            '--cfg-options train_dataloader.dataset.data_root=PATH '
            'val_dataloader.dataset.data_root=PATH)')
    root = osp.abspath(root)
    for name in ('train', 'test', 'meta'):
        if not osp.isfile(osp.join(root, 'cifar-100-python', name)):
            raise FileNotFoundError(
                f'{root}/cifar-100-python/{name} not found: '
                'train_dataloader.dataset.data_root must hold CIFAR-100 in '
                'its python layout (cifar-100-python/{train,test,meta}, as '
                'dhkd_det.datasets.write_cifar writes it)')
    val_root = cfg.val_dataloader.dataset.get('data_root')
    if not val_root or osp.abspath(val_root) != root:
        raise _refuse('val_dataloader.dataset.data_root', val_root,
                      f'their scripts validate on the test split of the '
                      f'training data ({root}): set both data roots alike')
    prep = cfg.model.get('data_preprocessor') or {}
    if prep.get('pad_crop', THEIR_PAD_CROP) != THEIR_PAD_CROP:
        raise _refuse('model.data_preprocessor.pad_crop', prep.pad_crop,
                      f'their RandomCrop pads {THEIR_PAD_CROP} pixels')
    for key, theirs in (('mean', THEIR_MEAN), ('std', THEIR_STD)):
        ours = tuple(prep.get(key, theirs))
        if ours != theirs:
            raise _refuse(f'model.data_preprocessor.{key}', ours,
                          f'their loader normalises with {theirs}')
    return root, bool(prep.get('flip', True))


def _loss_args(cfg: Config, name: str, variant: Variant) -> List[str]:
    """Their loss and head flags for ``variant``, read off our config;
    refused where our method trains something else."""
    model = cfg.model
    task = dict(model.get('task_losses') or {})
    task_loss = MODELS.build(task['main']) if set(task) == {'main'} else None
    if task_loss is None or task_loss.label_smoothing:
        raise _refuse('model.task_losses', task, 'their loss is CE on the '
                      'main head (weight -r), without label smoothing')
    aux = model.student.get('aux_head')
    ga = cfg.optim_wrapper.get('type') == 'GradAlignOptimWrapper'
    losses = dict(model.get('distill_losses') or {})
    head = 'aux' if variant.aux else 'main'
    expected = {'kd': 'KDLoss', 'dhkd': 'BinaryKLNormLoss'}.get(
        variant.distill)
    found = {h: c.get('type') for h, c in losses.items()}
    wanted = {head: expected} if expected else {}
    if (aux, ga, found) != (variant.aux, variant.ga, wanted):
        raise ValueError(
            f'variant {name} runs their {variant.script} as our method '
            f'{variant.method!r} should train: aux head {variant.aux}, '
            f'gradient alignment {variant.ga}, distillation {wanted}; our '
            f'config of that method has aux head {aux} '
            f'(model.student.aux_head), gradient '
            f'alignment {ga} (optim_wrapper.type) and distillation {found} '
            '(model.distill_losses). Give a pair config whose method '
            'configs match, or leave the variant out.')
    if any(h.get('type') == 'DistillScheduleHook'
           for h in cfg.get('custom_hooks', [])):
        raise _refuse('custom_hooks', cfg.custom_hooks, 'their scripts '
                      'weigh the distillation loss alike from the first '
                      'step: drop the DistillScheduleHook warm-up')
    if not expected:
        if task_loss.loss_weight != 1:
            raise _refuse('model.task_losses.main.loss_weight',
                          task_loss.loss_weight, 'their CE loop '
                          '(train_teacher.py) weighs CE by 1')
        return []
    loss = MODELS.build(losses[head])
    if loss.logit_stand:
        raise _refuse(f'model.distill_losses.{head}.logit_stand', True,
                      'their losses take the raw logits')
    # their train_distill indexes the student's outputs ([main, aux] with
    # two heads); with one head it indexes the first image instead and
    # fails, so KD runs with the second head too, which receives no loss
    # and is never validated: the student trains as single-head KD
    heads = ['--dual_head', '--linear' if variant.aux != 'nonlinear'
             else '--nonlinear'] + (['--ga'] if variant.ga else [])
    temperature = '--kd_T' if variant.distill == 'kd' else '--BinaryKL_T'
    return ['--distill', variant.distill] + heads + [
        '-r', _arg(task_loss.loss_weight), '-a', _arg(loss.loss_weight),
        temperature, _arg(loss.temperature)]


def their_run(cfg: Config, name: str) -> TheirRun:
    """Their command line for variant ``name`` (of ``VARIANTS``) that trains
    what ``cfg`` (our config of the variant's method) trains."""
    variant = VARIANTS[name]
    if cfg.model.get('type') != 'ClsDistiller':
        raise _refuse('model.type', cfg.model.get('type'), 'give a '
                      "classification pair config (model.type="
                      "'ClsDistiller'), e.g. configs/dhkd/"
                      'cifar100_res56_res20.py')
    student = cfg.model.student.network
    teacher = cfg.model.get('teacher')
    nets = [('model.student.network', student)] + (
        [('model.teacher', teacher)] if variant.distill else [])
    for key, net in nets:
        if not isinstance(net, dict) or 'type' not in net:
            raise _refuse(key, net, 'give the network as a dict with its '
                          'type (a zoo network of ours and theirs)')
        classes = net.get('num_classes', THEIR_CLASSES)
        if classes != THEIR_CLASSES:
            raise _refuse(f'{key}.num_classes', classes, 'their scripts '
                          f'hard-code CIFAR-100\'s {THEIR_CLASSES} classes '
                          '(n_cls = 100): compare on a 100-class set')
    epochs, milestones, decay = _schedule(cfg)
    optimizer = _optimizer(cfg)
    data_root, flip = _data(cfg)
    arch = their_name(student.type)
    lr = optimizer['lr']
    if arch in LR_CHANGED:
        if not variant.distill and lr != 0.01:
            raise _refuse('optim_wrapper.optimizer.lr', lr, 'their '
                          f'train_teacher.py trains {arch} at 0.01 whatever '
                          '--learning_rate says: set it to 0.01 to compare '
                          'the ce variant, or leave ce out of --variants')
        if variant.distill:
            # their train_student.py multiplies it by 0.2
            lr = round(lr / 0.2, 12)
    args = ['--model_s' if variant.distill else '--model', arch]
    teacher_arch = None
    if variant.distill:
        teacher_arch = their_name(teacher['type'])
        args += ['--path_t', TEACHER_PATH.format(arch=teacher_arch)]
    args += _loss_args(cfg, name, variant)
    args += ['--epochs', str(epochs),
             '--lr_decay_epochs', ','.join(str(m) for m in milestones),
             '--lr_decay_rate', _arg(decay), '--learning_rate', _arg(lr),
             '--momentum', _arg(optimizer['momentum']),
             '--weight_decay', _arg(optimizer['weight_decay']),
             '--batch_size', str(cfg.train_dataloader.batch_size),
             '--num_workers', str(cfg.train_dataloader.get('num_workers',
                                                          0))]
    return TheirRun(name, variant.script, args, flip, data_root, epochs,
                    teacher_arch)


def their_teacher_state(cfg: Config) -> Dict[str, torch.Tensor]:
    """Our teacher (``model.teacher`` from ``model.teacher_ckpt``, read as
    our distiller reads it: any layout of ``checkpoint.keys``, strictly) as
    the plain network's state dict, which their model class of the same
    name loads strictly (the zoo keeps CRD's parameter names)."""
    teacher = MODELS.build(cfg.model.teacher)
    load_teacher_checkpoint(teacher, cfg.model.teacher_ckpt)
    return teacher.state_dict()


# --- their runs -----------------------------------------------------------

def parse_log(text: str) -> dict:
    """Their console, read: the test top-1 after each epoch (the first
    ``* Acc@1`` line after ``epoch N, total time``: their training loop
    prints its own before it), the ``best accuracy`` they print at the end
    and the teacher's top-1 by their ``validate`` (None where absent)."""
    top1, best, teacher, after_epoch = [], None, None, False
    for line in text.splitlines():
        test = _TOP1.match(line)
        best_line, teacher_line = _BEST.match(line), _TEACHER.match(line)
        if _EPOCH.match(line):
            after_epoch = True
        elif after_epoch and test:
            top1.append(float(test.group(1)))
            after_epoch = False
        elif best_line:
            best = float(best_line.group(1))
        elif teacher_line:
            teacher = float(teacher_line.group(1))
    return dict(top1=top1, best=best, teacher=teacher)


@dataclass
class TheirOutcome:
    """How one of their runs went (``sweep.Outcome`` is our cells')."""
    variant: str
    seed: int
    status: str  # 'done', 'failed' or 'skipped' (finished before)
    seconds: float = 0.0
    tail: str = ''


def their_dir(out: str, variant: str, seed: int) -> str:
    return osp.join(out, 'theirs', variant, f'seed_{seed}')


def _link_data(run_dir: str, data_root: str) -> None:
    link = osp.join(run_dir, 'data')
    if osp.islink(link):
        os.remove(link)
    os.symlink(data_root, link)


def run_theirs(repo: str, out: str, run: TheirRun, seed: int,
               teacher: Optional[Dict[str, torch.Tensor]] = None,
               env: Optional[Dict[str, str]] = None) -> TheirOutcome:
    """Runs their script for ``run`` with ``seed`` in its run folder unless
    it finished before; ``teacher``: the state dict their script loads
    (distillation variants)."""
    run_dir = their_dir(out, run.variant, seed)
    results_path = osp.join(run_dir, RESULTS_FILE)
    if osp.isfile(results_path):
        return TheirOutcome(run.variant, seed, 'skipped')
    os.makedirs(run_dir, exist_ok=True)
    _link_data(run_dir, run.data_root)
    if run.teacher:
        path = osp.join(run_dir, TEACHER_PATH.format(arch=run.teacher))
        os.makedirs(osp.dirname(path), exist_ok=True)
        with atomic_path(path) as tmp:
            torch.save({'model': teacher}, tmp)
    command = run.command(repo, seed)
    start = time.time()
    with open(osp.join(run_dir, STDOUT_LOG), 'w') as log:
        rc = subprocess.run(command, cwd=run_dir, stdout=log,
                            stderr=subprocess.STDOUT,
                            env=dict(os.environ, PYTHONUNBUFFERED='1',
                                     **(env or {}))).returncode
    seconds = time.time() - start
    with open(osp.join(run_dir, STDOUT_LOG)) as f:
        text = f.read()
    parsed = parse_log(text)
    tail = text[-TAIL_CHARS:]
    if rc == 0 and (parsed['best'] is None or
                    len(parsed['top1']) != run.epochs):
        rc, tail = -1, (f'{tail}\n(exited 0, but {STDOUT_LOG} holds '
                        f'{len(parsed["top1"])} test accuracies of '
                        f'{run.epochs} epochs and '
                        f'{"a" if parsed["best"] is not None else "no"} '
                        '"best accuracy" line)')
    failed = osp.join(run_dir, FAILED_FILE)
    if rc != 0:
        atomic_write_text(failed, json.dumps(dict(
            variant=run.variant, seed=seed, returncode=rc, tail=tail,
            command=command, seconds=seconds,
            time=time.strftime('%Y-%m-%d %H:%M:%S')), indent=1))
        return TheirOutcome(run.variant, seed, 'failed', seconds, tail)
    atomic_write_text(results_path, json.dumps(dict(
        variant=run.variant, method=VARIANTS[run.variant].method, seed=seed,
        best_top1=parsed['best'], last_top1=parsed['top1'][-1],
        epochs=len(parsed['top1']), top1=parsed['top1'],
        teacher_top1=parsed['teacher'], flip=run.flip, command=command,
        seconds=seconds), indent=1))
    if osp.exists(failed):
        os.remove(failed)
    return TheirOutcome(run.variant, seed, 'done', seconds)


# --- the table ------------------------------------------------------------

@dataclass
class VariantStats:
    """The finished seeds of one variant on both sides."""
    variant: str
    seeds: int
    ours_best: List[float] = field(default_factory=list)
    ours_last: List[float] = field(default_factory=list)
    theirs_best: List[float] = field(default_factory=list)
    theirs_last: List[float] = field(default_factory=list)
    teacher: List[float] = field(default_factory=list)

    @property
    def diff(self) -> Optional[float]:
        """Mean best top-1, ours minus theirs."""
        if not (self.ours_best and self.theirs_best):
            return None
        return statistics.mean(self.ours_best) - \
            statistics.mean(self.theirs_best)

    @property
    def flagged(self) -> bool:
        return self.diff is not None and abs(self.diff) > FLAG_POINTS

    def markdown_row(self) -> Dict[str, str]:
        row = {'variant': self.variant,
               'our method': VARIANTS[self.variant].method,
               'seeds': f'{len(self.ours_best)} / {len(self.theirs_best)} '
               f'of {self.seeds}',
               'ours best': mean_std(self.ours_best),
               'theirs best': mean_std(self.theirs_best),
               'ours last': mean_std(self.ours_last),
               'theirs last': mean_std(self.theirs_last)}
        if self.diff is not None:
            # flagged in words: a '|' would split the Markdown cell
            row['Δ best'] = f'{self.diff:+.2f}' + (
                ' (flagged)' if self.flagged else '')
        return row

    def csv_row(self) -> Dict[str, str]:
        def stat(values, fn):
            enough = len(values) >= (2 if fn is statistics.stdev else 1)
            return f'{fn(values):.4f}' if enough else ''

        row = {'variant': self.variant,
               'method': VARIANTS[self.variant].method,
               'seeds': str(self.seeds),
               'ours_seeds': str(len(self.ours_best)),
               'theirs_seeds': str(len(self.theirs_best))}
        for side in ('ours', 'theirs'):
            for kind in ('best', 'last'):
                values = getattr(self, f'{side}_{kind}')
                row[f'{side}_{kind}_mean'] = stat(values, statistics.mean)
                row[f'{side}_{kind}_std'] = stat(values, statistics.stdev)
        row['diff_best'] = '' if self.diff is None else f'{self.diff:.4f}'
        row['flagged'] = str(self.flagged)
        return row


MARKDOWN_COLUMNS = ('variant', 'our method', 'seeds',
                    'ours best', 'theirs best', 'Δ best', 'ours last',
                    'theirs last')


def _read_results(path: str) -> Optional[dict]:
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def variant_stats(out: str, variants: Sequence[str], seeds: Sequence[int],
                  ours: Dict[tuple, str]) -> List[VariantStats]:
    """Every variant with the seeds finished so far; ``ours``: (variant,
    seed) -> the path of our cell's results.json."""
    stats = []
    for variant in variants:
        row = VariantStats(variant, len(seeds))
        for seed in seeds:
            mine = _read_results(ours[variant, seed])
            if mine:
                row.ours_best.append(mine['best_top1'])
                row.ours_last.append(mine['last_top1'])
            theirs = _read_results(osp.join(their_dir(out, variant, seed),
                                            RESULTS_FILE))
            if theirs:
                row.theirs_best.append(theirs['best_top1'])
                row.theirs_last.append(theirs['last_top1'])
                if theirs.get('teacher_top1') is not None:
                    row.teacher.append(theirs['teacher_top1'])
        stats.append(row)
    return stats


def table_markdown(stats: List[VariantStats], config: str) -> str:
    """The table and, below it, what it compares and how to read it."""
    notes = [
        f'Config: {config}. Top-1 (%) on its test split: mean ± sample '
        'std over the seeds finished (validation after every epoch: best '
        'and last); ours: our sweep method, theirs: their code '
        '(github.com/penghui-yang/DHKD) run by '
        'dhkd_det/experiments/authors_bootstrap.py on the same data, '
        'teacher and recipe; Δ best = ours − theirs, mean best top-1; '
        'seeds: finished, ours / theirs; "-": not finished.']
    teacher = [t for s in stats for t in s.teacher]
    if teacher:
        notes.append(f'The teacher by their validate: {mean_std(teacher)} '
                     'top-1 (over their distillation runs).')
    flagged = [s.variant for s in stats if s.flagged]
    if flagged:
        notes.append(f'Flagged, |Δ| > {FLAG_POINTS:g} pt: '
                     f'{", ".join(flagged)}.')
    return '\n'.join([markdown_table([s.markdown_row() for s in stats],
                                     MARKDOWN_COLUMNS), ''] + notes)


# --- both sides -----------------------------------------------------------

def _our_results_path(out: str, ours_from: Optional[str], cell: Cell) -> str:
    """Where our cell's results are: ``ours_from`` where it finished there,
    else this harness's own ``<out>/ours``."""
    if ours_from:
        path = osp.join(cell_dir(ours_from, cell), RESULTS_FILE)
        if osp.isfile(path):
            return path
    return osp.join(cell_dir(osp.join(out, 'ours'), cell), RESULTS_FILE)


def compare(authors_repo: str, config: str, out: str, seeds: Sequence[int],
            variants: Sequence[str] = tuple(VARIANTS),
            teacher_ckpt: Optional[str] = None,
            ours_from: Optional[str] = None, pair: Optional[str] = None,
            options: Optional[Dict[str, object]] = None,
            say: Callable[[str], None] = print, cpu_runs: int = 1) -> dict:
    """Runs what is not finished of their side, then of ours, and writes
    ``<out>/authors_vs_ours.md`` and ``.csv``.

    Args:
        teacher_ckpt: the teacher both sides distil from (default: the
            config's ``model.teacher_ckpt``).
        ours_from: a sweep's output folder (``tools/reproduce.py --out``)
            whose finished cells ``<pair>/<method>/seed_<seed>`` are used
            instead of training them.
        pair: the pair's name there (default: ``default_pair(config)``).
        options: ``--cfg-options`` for both sides.
        cpu_runs: runs side by side on a machine without GPUs, the cores
            shared out (``sweep.cpu_run_threads``).

    Returns dict(markdown=..., files=[...], failed=[...]: the runs that
    failed, as 'theirs <variant> seed <s>' / 'ours <cell id>').
    """
    repo = check_authors_repo(authors_repo)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise KeyError(f'unknown variants {unknown}; choose from '
                       f'{sorted(VARIANTS)}')
    if not osp.isfile(config):
        raise FileNotFoundError(f'config {config!r} not found (e.g. '
                                'configs/dhkd/cifar100_res56_res20.py)')
    config = osp.abspath(config)
    out = osp.abspath(out)
    options = dict(options or {})
    base = Config.fromfile(config)
    base.merge_from_dict(options)
    distilling = any(VARIANTS[v].distill for v in variants)
    if distilling:
        teacher_ckpt = teacher_ckpt or base.model.get('teacher_ckpt')
        if not teacher_ckpt or not osp.isfile(teacher_ckpt):
            raise FileNotFoundError(
                f'teacher checkpoint {teacher_ckpt!r} not found: give '
                '--teacher-ckpt PATH (a checkpoint of model.teacher, e.g. '
                'one tools/train.py wrote for a configs/teachers/ config)')
        # both sides distil from this file
        options['model.teacher_ckpt'] = osp.abspath(teacher_ckpt)
        base.model.teacher_ckpt = options['model.teacher_ckpt']
    pair = pair or default_pair(config)
    if ours_from and not osp.isdir(osp.join(ours_from, pair)):
        found = sorted(os.listdir(ours_from)) if osp.isdir(ours_from) \
            else []
        raise FileNotFoundError(
            f'--ours-from {ours_from}: no folder {pair}/ of the pair '
            f'(it holds {found or "nothing"}); name the pair with --pair')
    runs = {v: their_run(cell_config(config, VARIANTS[v].method, pair,
                                     seeds[0], options), v)
            for v in variants}
    teacher = their_teacher_state(base) if distilling else None
    devices = visible_devices()
    slots = device_slots(devices, 1, cpu_runs)
    threads = cpu_run_threads(cpu_runs)
    # one GPU per run: their train_teacher.py wraps the model in
    # DataParallel, which would split each batch, and with it BatchNorm's
    # statistics, over every GPU it sees
    env = {'CUDA_VISIBLE_DEVICES': devices[0]} if devices else \
        cpu_run_env(cpu_runs)
    failed = []

    def theirs(variant: str, seed: int) -> None:
        outcome = run_theirs(repo, out, runs[variant], seed, teacher, env)
        say(f'[theirs] {variant} seed {seed}: {outcome.status}'
            + (f' in {outcome.seconds:.0f} s' if outcome.seconds else ''))
        if outcome.status == 'failed':
            failed.append(f'theirs {variant} seed {seed}')
            say(f'--- the last lines of '
                f'{osp.join(their_dir(out, variant, seed), STDOUT_LOG)}'
                f':\n{outcome.tail.rstrip()}\n--- (rerun the same '
                'command to retry it)')

    with ThreadPoolExecutor(max_workers=len(slots)) as pool:
        for done in [pool.submit(theirs, variant, seed)
                     for variant in variants for seed in seeds]:
            done.result()
    failed.sort()
    cells = {(v, s): Cell(pair, VARIANTS[v].method, s)
             for v in variants for s in seeds}
    ours = {key: _our_results_path(out, ours_from, cell)
            for key, cell in cells.items()}
    todo = [cells[key] for key, path in ours.items()
            if not osp.isfile(path)]
    if todo:
        say(f'[ours] training {len(todo)} cells into {out}/ours')
        sweep = Sweep(config, {pair: config},
                      sorted({c.method for c in todo}), list(seeds),
                      options)
        outcomes = run_local(sweep, osp.join(out, 'ours'), todo, slots,
                             say=say, cpu_threads=threads)
        failed += [f'ours {o.cell.id}' for o in outcomes
                   if o.status == 'failed']
    stats = variant_stats(out, variants, seeds, ours)
    markdown = table_markdown(stats, config)
    md_path = osp.join(out, 'authors_vs_ours.md')
    csv_path = osp.join(out, 'authors_vs_ours.csv')
    atomic_write_text(md_path, markdown + '\n')
    atomic_write_text(csv_path, csv_table([s.csv_row() for s in stats],
                                          ('variant', 'method')))
    return dict(markdown=markdown, files=[md_path, csv_path], failed=failed)
