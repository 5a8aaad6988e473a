"""The detection study: does DHKD's aux head help a detector, measured on a
benchmark that is not solved in a few epochs, over several seeds.

The detection demo (``demo_det.py``) shows the pipeline but cannot answer
this: its set is solved in a few epochs, with one seed.  The study trains,
through the same configs shrunk the same way (the demo's ``detector``,
``data_options``, ``schedule_options``), on crowded digit scenes
(``dhkd_det.datasets.digit_scenes_as_coco``):

  teacher            Faster R-CNN, full-width ResNet-18 (the DHKD config's
                     teacher, shrunk:
                     mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py),
                     trained once per study folder;
  student_alone      the half-width student, MMDetection's losses only
                     (mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py);
  kd_main            + KD on its one classifier
                     (configs/kd/coco_faster_rcnn_r101_r50.py);
  dhkd_aux           + BinaryKLNorm on a second, aux classifier: DHKD
                     (configs/dhkd/coco_faster_rcnn_r101_r50.py);
  dhkd_aux_kd_main   DHKD, and KD on the main classifier too;
  one_head_both      + BinaryKLNorm on its one classifier: DHKD's two losses
                     on one head, what the aux head is there to avoid;

each student variant over several seeds, all with the same data, schedule
and teacher checkpoint.  The distilled runs measure the cosine between the
task and the distillation gradients on the main classifier and the backbone
(``GradDiagnosticsHook``).

Every run is a cell, ``<out>/teacher/`` or ``<out>/<variant>/seed_<s>/``,
trained by ``tools/train.py`` in a child process and resumable as a sweep's
cells are (``sweep.cell_state``): a cell with ``results.json`` is finished
and skipped on a rerun; one with a checkpoint (one is saved every epoch) is
resumed; a failed one keeps ``failed.json`` (its log's tail) and is run
again.  ``<out>/study.json`` records the data and schedule the folder was
made with: a rerun with others is refused, so cells of different studies
never mix in one table.  Runs with other loss options (temperature,
weights, foreground RoIs only) go to their own cell folders, e.g.
``dhkd_aux-T4/``, beside the default ones, sharing the teacher and the
student alone.

The table (``det_study.md`` / ``.csv`` / ``.json``) gives per variant the
bbox mAP and mAP@50 (in %, mean ± std over the finished seeds, at the last
epoch and the best), the mAP gained over the last quarter of the epochs
(has the curve flattened?) and the gradient cosines; ``figures/`` the mAP
per epoch of each variant's first seed and the cosines.
"""
import json
import os
import os.path as osp
import resource
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..analysis.curves import plot_panels, plot_runs
from ..analysis.panels import GRAD_GROUPS, overview_panels
from ..analysis.runs import read_run
from ..analysis.summary import csv_table, markdown_table, mean_std
from ..apis.runner import TRAIN_COMMAND, train_in_subprocess
from ..checkpoint.atomic_file import atomic_write_text
from ..datasets import digit_scenes_as_coco
from ..testing import dotted
from .demo_det import (DHKD_CONFIG, KD_CONFIG, STUDENT_CONFIG, TEACHER_CONFIG,
                       Settings, data_options, detector, final_gradients,
                       saved_config, schedule_options)
from .sweep import (FAILED_FILE, RESULTS_FILE, TAIL_CHARS, _earlier_seconds,
                    cell_state, cpu_run_env, device_slots,
                    visible_devices)

#: the numbers a detection cell's results.json must hold to be finished
DET_RESULT_KEYS = ('best_mAP', 'last_mAP')

#: the study folder's record of its data and schedule
STUDY_FILE = 'study.json'
TEACHER = 'teacher'
#: 128 px scenes, 4-10 digits of 10-48 px (scaled with the canvas)
DIGIT_SIZES_AT_128 = (10, 48)

#: sized from one-thread timings (docs/det_study.md#cost): the whole study,
#: teacher and 5 variants x 3 seeds, in about two hours of one core
DEFAULT = Settings(canvas=128, num_train=400, num_val=100, epochs=10,
                   teacher_epochs=20, batch_size=8, lr=0.01,
                   teacher_width=64, student_width=32, fpn_width=64,
                   fc_width=128, grad_interval=20, score_thr=0.05)
SMOKE = Settings(canvas=64, num_train=8, num_val=4, epochs=1,
                 teacher_epochs=1, batch_size=4, lr=0.01, teacher_width=16,
                 student_width=8, fpn_width=16, fc_width=32,
                 grad_interval=1,
                 # models this untrained score every box below 0.05, and
                 # CocoMetric computes no mAP from no detections
                 score_thr=0.0)


@dataclass(frozen=True)
class Losses:
    """The distillation losses' options, the same in every variant that
    has the loss: BinaryKLNorm (DHKD's loss) weighs ``aux_weight`` on
    whichever head it sits (the aux head, or the one head of
    ``one_head_both``), KD ``kd_weight``; both at ``temperature`` (2, as
    the COCO configs: the runs differ in where the distillation lands, not
    in how hard it pulls).  ``distill_rois``: DetDistiller's, 'all' sampled
    RoIs (the configs') or the 'foreground' ones only."""
    temperature: float = 2.0
    aux_weight: float = 1.0
    kd_weight: float = 1.0
    distill_rois: str = 'all'

    def loss(self, kind: str) -> dict:
        """The loss config of ``kind``, 'kd' or 'bkl' (BinaryKLNorm)."""
        if kind == 'kd':
            return dict(type='KDLoss', temperature=self.temperature,
                        loss_weight=self.kd_weight)
        return dict(type='BinaryKLNormLoss', temperature=self.temperature,
                    loss_weight=self.aux_weight)


@dataclass(frozen=True)
class Variant:
    """A student: the config it trains and where its distillation lands
    (``main``: the loss on the main classifier, 'kd', 'bkl' or None;
    ``aux``: BinaryKLNorm on an aux classifier)."""
    label: str
    config: str
    main: Optional[str] = None
    aux: bool = False

    @property
    def distilled(self) -> bool:
        return self.main is not None or self.aux

    def tag(self, losses: Losses) -> str:
        """'' with the default ``Losses``, else the options of this
        variant's losses that differ (``-T4-aux0.5-fg``): the cell folder's
        suffix, so that other options never reuse the default runs."""
        default = Losses()
        parts = []
        if self.distilled and losses.temperature != default.temperature:
            parts.append(f'T{losses.temperature:g}')
        if (self.aux or self.main == 'bkl') and \
                losses.aux_weight != default.aux_weight:
            parts.append(f'aux{losses.aux_weight:g}')
        if self.main == 'kd' and losses.kd_weight != default.kd_weight:
            parts.append(f'kd{losses.kd_weight:g}')
        if self.distilled and losses.distill_rois == 'foreground':
            parts.append('fg')
        return ''.join(f'-{p}' for p in parts)

    def distill_losses(self, losses: Losses) -> dict:
        heads = {}
        if self.main:
            heads['main'] = losses.loss(self.main)
        if self.aux:
            heads['aux'] = losses.loss('bkl')
        return heads


VARIANTS = {
    'student_alone': Variant('student alone', STUDENT_CONFIG),
    'kd_main': Variant('KD on the main head', KD_CONFIG, main='kd'),
    'dhkd_aux': Variant('DHKD: BinaryKLNorm on the aux head', DHKD_CONFIG,
                        aux=True),
    'dhkd_aux_kd_main': Variant('DHKD + KD on the main head', DHKD_CONFIG,
                                main='kd', aux=True),
    'one_head_both': Variant('CE + BinaryKLNorm on one head', KD_CONFIG,
                             main='bkl'),
}


def settings_for(smoke: bool = False, **changes) -> Settings:
    """SMOKE or DEFAULT with ``changes`` (None values ignored); each count
    must be >= 1."""
    changes = {k: v for k, v in changes.items() if v is not None}
    for key, value in changes.items():
        if value < 1:
            raise ValueError(f'{key} must be >= 1, got {value}')
    return replace(SMOKE if smoke else DEFAULT, **changes)


# ----- the data -------------------------------------------------------------

def write_data(out: str, settings: Settings, data_seed: int) -> dict:
    """The study's digit scenes under ``out/data`` (written once: a folder
    made with other settings is refused by ``check_study``); returns
    ``digit_scenes_as_coco``'s summary."""
    scale = settings.canvas / 128
    return digit_scenes_as_coco(
        osp.join(out, 'data'), num_train=settings.num_train,
        num_val=settings.num_val, canvas=settings.canvas, seed=data_seed,
        digit_sizes=tuple(max(4, round(s * scale))
                          for s in DIGIT_SIZES_AT_128))


def check_study(out: str, settings: Settings, data_seed: int,
                say: Callable[[str], None]) -> dict:
    """The data of the study folder ``out``, written on its first run; on
    later runs the settings must be those ``study.json`` recorded (its
    cells were trained with them).  Returns the data summary."""
    path = osp.join(out, STUDY_FILE)
    record = dict(settings=asdict(settings), data_seed=data_seed)
    if osp.isfile(path):
        with open(path) as f:
            earlier = json.load(f)
        made = dict(earlier['settings'], data_seed=earlier['data_seed'])
        now = dict(record['settings'], data_seed=data_seed)
        differ = [k for k in now if made.get(k) != now[k]]
        if differ:
            raise ValueError(
                f'{path}: this study folder was made with other settings '
                f'({", ".join(f"{k}={made.get(k)}" for k in differ)}), '
                'and its cells were trained with them: rerun with those, or '
                'give another --out-dir for the new ones')
        if all(osp.isfile(earlier['data'][split]['ann_file'])
               for split in ('train', 'val')):
            return earlier['data']
    say(f'writing the digit scenes to {osp.join(out, "data")}')
    data = write_data(out, settings, data_seed)
    atomic_write_text(path, json.dumps(dict(record, data=data), indent=1))
    return data


# ----- one cell -------------------------------------------------------------

def cell_results(work_dir: str, epochs: int) -> dict:
    """What a finished run logged: bbox mAP and mAP@50 per epoch (0 for an
    epoch without any detection above the score threshold, where
    CocoMetric computes none), their last and best, and the gradient
    cosines' last measurement (``demo_det.final_gradients``); the wall and
    CPU times are ``run_cell``'s."""
    run = read_run(work_dir)
    steps = [r['step'] for r in run.val]
    if steps != list(range(1, epochs + 1)):
        raise ValueError(f'{work_dir}: validations logged after epochs '
                         f'{steps}, expected 1..{epochs}')
    results = dict(epochs=epochs,
                   no_detection_epochs=[r['step'] for r in run.val
                                        if 'coco/bbox_mAP' not in r])
    for name, key in (('mAP', 'coco/bbox_mAP'),
                      ('mAP_50', 'coco/bbox_mAP_50')):
        values = [float(r.get(key, 0.0)) for r in run.val]
        results.update({name: values, f'last_{name}': values[-1],
                        f'best_{name}': max(values)})
    results['gradients'] = final_gradients(work_dir)
    return results


def run_cell(work_dir: str, config: str, options: dict, hooks: List[dict],
             epochs: int, env: Optional[dict] = None,
             alone: bool = True) -> dict:
    """Trains the cell in ``work_dir`` unless it is finished (resumed from
    its checkpoint when it has one) and returns its ``results.json``
    (written atomically; ``seconds``: the wall time of all its attempts,
    ``cpu_seconds``: the CPU time of the last, None unless the run was
    ``alone``: this process's finished children are every cell's run);
    ``env`` is added to the run's environment; a failed run leaves
    ``failed.json`` and raises ``CellFailed``."""
    state = cell_state(work_dir, DET_RESULT_KEYS)
    results_file = osp.join(work_dir, RESULTS_FILE)
    if state != 'finished':
        resume = state == 'interrupted'
        start, cpu_start = time.time(), _children_cpu_seconds()
        run = train_in_subprocess(config, options, work_dir, hooks=hooks,
                                  resume=resume, env=env)
        # the wall time of every attempt, failed ones included
        seconds = _earlier_seconds(work_dir) + time.time() - start
        error = ''
        if run.returncode == 0:
            try:
                results = dict(
                    cell_results(work_dir, epochs), seconds=seconds,
                    cpu_seconds=_children_cpu_seconds() - cpu_start
                    if alone else None)
            except (FileNotFoundError, ValueError) as err:
                error = str(err)
        failed = osp.join(work_dir, FAILED_FILE)
        if run.returncode or error:
            tail = f'{run.tail(TAIL_CHARS)}\n{error}'.rstrip()
            atomic_write_text(failed, json.dumps(dict(
                returncode=run.returncode, tail=tail, resumed=resume,
                seconds_total=seconds,
                time=time.strftime('%Y-%m-%d %H:%M:%S')), indent=1))
            raise CellFailed(
                f'{tail}\n--- {work_dir} failed (exit status '
                f'{run.returncode}; full output: {run.log}; rerun the study '
                f'to retry it, or by hand: {TRAIN_COMMAND} {run.config} '
                f'--work-dir {work_dir} --resume)')
        atomic_write_text(results_file, json.dumps(results, indent=1))
        if osp.exists(failed):
            os.remove(failed)
    with open(results_file) as f:
        return json.load(f)


def _children_cpu_seconds() -> float:
    """The CPU time, all threads, of this process's finished children: a
    run's cost that other jobs on the machine do not inflate as they do its
    wall time."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CellFailed(RuntimeError):
    """A cell's run failed (its ``failed.json`` holds the log's tail)."""


# ----- the study ------------------------------------------------------------

def variant_dir(out: str, name: str, losses: Losses) -> str:
    """``<out>/<variant><tag>``, the folder of a variant's seeds."""
    return osp.join(out, name + VARIANTS[name].tag(losses))


def run_study(out_dir: str, settings: Settings = DEFAULT,
              seeds: Sequence[int] = (0, 1, 2),
              variants: Sequence[str] = tuple(VARIANTS),
              losses: Losses = Losses(), data_seed: int = 0,
              say: Callable[[str], None] = print,
              cpu_runs: int = 1) -> dict:
    """Trains every unfinished cell of the study in ``out_dir`` (the
    teacher first), then writes and prints its table (``collect``);
    returns ``collect``'s result with ``failed``, the cells whose run
    failed (the study goes on past a failed student; a failed teacher
    stops it).  ``cpu_runs``: students trained side by side on a machine
    without GPUs, the cores shared out (``sweep.cpu_run_threads``)."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise KeyError(f'unknown variants {unknown}; choose from '
                       f'{list(VARIANTS)}')
    device_slots(visible_devices(), 1, cpu_runs)  # --cpu-runs on a CPU
    env = cpu_run_env(cpu_runs)
    out = osp.abspath(out_dir)
    os.makedirs(out, exist_ok=True)
    data = check_study(out, settings, data_seed, say)
    say(f'digit scenes, {settings.canvas}x{settings.canvas}: '
        f'{data["train"]["images"]} train images ({data["train"]["boxes"]} '
        f'digits), {data["val"]["images"]} val images '
        f'({data["val"]["boxes"]} held-out digits)')
    data_root = osp.join(out, 'data')
    iters = -(-settings.num_train // settings.batch_size)
    common = data_options(data_root, settings)

    def schedule(epochs: int, seed: int) -> dict:
        # a checkpoint every epoch (one kept): an interrupted cell resumes
        return {**schedule_options(epochs, iters, settings, seed),
                'default_hooks.checkpoint.interval': 1}

    cells = [(name, seed) for name in variants for seed in seeds]
    total = len(cells) + 1
    start = time.time()

    def train(step: int, label: str, work_dir: str, config: str,
              options: dict, epochs: int, diagnose: bool,
              alone: bool) -> dict:
        state = cell_state(work_dir, DET_RESULT_KEYS)
        hooks = [dict(type='ProgressHook', label=label)]
        if diagnose:
            hooks.append(dict(type='GradDiagnosticsHook',
                              interval=settings.grad_interval))
        if state != 'finished':
            say(f'[{step}/{total}] {label}: '
                f'{"resumed" if state == "interrupted" else "training"} '
                f'({epochs} epochs; log: '
                f'{osp.join(work_dir, "train_stdout.log")}; '
                f'{_minutes(time.time() - start)} so far)')
        results = run_cell(work_dir, config, options, hooks, epochs,
                           None if alone else env, alone)
        say(f'[{step}/{total}] {label}: bbox mAP '
            f'{100 * results["last_mAP"]:.2f} (best '
            f'{100 * results["best_mAP"]:.2f}), mAP@50 '
            f'{100 * results["last_mAP_50"]:.2f}' +
            (' (finished before)' if state == 'finished' else
             f', {_minutes(results["seconds"])}'))
        return results

    teacher_dir = osp.join(out, TEACHER)
    train(1, f'{TEACHER} (ResNet-18 width {settings.teacher_width})',
          teacher_dir, TEACHER_CONFIG,
          {**common, **dotted(dict(model=detector(settings.teacher_width,
                                                  settings))),
           **schedule(settings.teacher_epochs, data_seed)},
          settings.teacher_epochs, diagnose=False, alone=True)
    student = dotted(dict(model=detector(settings.student_width, settings)))
    distilled = {'model.student.' + k[len('model.'):]: v
                 for k, v in student.items()}
    # as a user would: the teacher's config as its run saved it, and the
    # checkpoint it wrote
    distilled.update({
        'model.teacher': saved_config(teacher_dir, TEACHER_CONFIG),
        'model.teacher_ckpt': osp.join(
            teacher_dir, f'epoch_{settings.teacher_epochs}.pth')})
    if losses.distill_rois != 'all':
        distilled['model.distill_rois'] = losses.distill_rois
    failed = []

    def train_student(step: int, name: str, seed: int) -> None:
        variant = VARIANTS[name]
        options = {**common, **schedule(settings.epochs, seed)}
        if variant.distilled:
            options.update(distilled)
            options['model.distill_losses'] = dict(
                _delete_=True, **variant.distill_losses(losses))
        else:
            options.update(student)
        work_dir = osp.join(variant_dir(out, name, losses), f'seed_{seed}')
        label = f'{osp.basename(variant_dir(out, name, losses))} seed {seed}'
        try:
            train(step, label, work_dir, variant.config, options,
                  settings.epochs, variant.distilled, alone=cpu_runs == 1)
        except CellFailed as err:
            say(str(err))
            failed.append(work_dir)

    with ThreadPoolExecutor(max_workers=cpu_runs) as pool:
        for done in [pool.submit(train_student, step, name, seed)
                     for step, (name, seed) in enumerate(cells, 2)]:
            done.result()
    failed.sort()
    result = collect(out, variants, seeds, losses, settings)
    say(f'\n{result["text"]}')
    if failed:
        say(f'{len(failed)} cell(s) failed: {", ".join(failed)} (rerun the '
            'same command to retry them)')
    return dict(result, failed=failed)


def _minutes(seconds: float) -> str:
    return f'{seconds / 60:.1f} min'


# ----- the table ------------------------------------------------------------

def last_quarter_gain(values: Sequence[float]) -> Optional[float]:
    """How much ``values`` (a metric per epoch) rose over the last quarter
    of the epochs (at least one): the last value minus the one a quarter
    of the epochs before; None with a single epoch."""
    if len(values) < 2:
        return None
    back = max(1, round(len(values) / 4))
    return values[-1] - values[-1 - back]


def variant_stats(results: Sequence[dict]) -> Dict[str, List[float]]:
    """Per statistic of the table, its value in each finished seed's
    ``results`` (mAP in %, minutes per run)."""
    stats = {
        'mAP last': [100 * r['last_mAP'] for r in results],
        'mAP best': [100 * r['best_mAP'] for r in results],
        'mAP@50 last': [100 * r['last_mAP_50'] for r in results],
        'mAP@50 best': [100 * r['best_mAP_50'] for r in results],
        'mAP gain last 25%': [
            100 * g for g in map(last_quarter_gain,
                                 (r['mAP'] for r in results))
            if g is not None],
        'min / run': [r['seconds'] / 60 for r in results],
    }
    for kind in ('cos', 'conflict'):
        for group in GRAD_GROUPS:
            values = [r['gradients'][f'{kind}_{group}'] for r in results]
            if any(v is not None for v in values):
                stats[f'{kind} {group}'] = [v for v in values
                                            if v is not None]
    return stats


def _number(values: List[float], fn) -> str:
    """A CSV cell: ``fn`` of the values, empty where it is undefined."""
    if len(values) < (2 if fn is statistics.stdev else 1):
        return ''
    return f'{fn(values):.4f}'


def collect(out: str, variants: Sequence[str], seeds: Sequence[int],
            losses: Losses, settings: Settings) -> dict:
    """The table of the cells finished so far in ``out``, as
    ``det_study.md`` (with the teacher, the convergence check and the
    figure), ``det_study.csv`` (mean and std columns) and
    ``det_study.json``, and the figures; returns dict(rows, text,
    convergence, figures)."""
    # (row, seeds asked for, [(work dir, results) of each finished one])
    groups = [(TEACHER, 1, _finished([osp.join(out, TEACHER)]))]
    convergence: List[str] = []
    for name in variants:
        folder = variant_dir(out, name, losses)
        groups.append((osp.basename(folder), len(seeds), _finished(
            [osp.join(folder, f'seed_{seed}') for seed in seeds])))
        if name == 'student_alone':
            convergence = _convergence([r for _, r in groups[-1][2]],
                                       settings)
    rows, csv_rows, first_runs = [], [], []
    for row, asked, done in groups:
        stats = variant_stats([r for _, r in done])
        rows.append({'variant': row, 'seeds': f'{len(done)}/{asked}',
                     **{k: mean_std(v) for k, v in stats.items()}})
        csv_rows.append({'variant': row, 'seeds': str(len(done)),
                         **{f'{k} {s}': _number(v, fn)
                            for k, v in stats.items()
                            for s, fn in (('mean', statistics.mean),
                                          ('std', statistics.stdev))}})
        if done:
            first_runs.append(read_run(done[0][0]))
    table = markdown_table(rows, first_columns=('variant', 'seeds'))
    figures = []
    if first_runs:
        figures = plot_runs(first_runs, osp.join(out, 'figures'))
        figures.append(plot_panels(
            first_runs,
            overview_panels('coco/bbox_mAP', ('val', 'coco/bbox_mAP_50')),
            osp.join(out, 'figures', 'det_study.png'),
            title='digit scenes, Faster R-CNN (first seed of each)'))
    text = '\n'.join(
        [f'Detection study: digit scenes {settings.canvas}x'
         f'{settings.canvas}, {settings.num_train} train / '
         f'{settings.num_val} val images; teacher {settings.teacher_epochs}'
         f' epochs, students {settings.epochs} epochs; losses: '
         f'{_describe(losses)}', '',
         'bbox mAP and mAP@50 in %, mean ± std over the finished seeds; '
         'cos / conflict: the last cosine between the task and the '
         'distillation gradients, and the fraction of measurements where '
         'it was negative', '', table, '',
         'Variants: ' + '; '.join(f'{name}: {VARIANTS[name].label}'
                                  for name in variants) + '.'] +
        convergence +
        ([f'![mAP per epoch and gradient cosines](figures/'
          f'{osp.basename(figures[-1])})'] if figures else []))
    atomic_write_text(osp.join(out, 'det_study.md'), text + '\n')
    atomic_write_text(osp.join(out, 'det_study.csv'), csv_table(
        csv_rows, first_columns=('variant', 'seeds')))
    atomic_write_text(osp.join(out, 'det_study.json'), json.dumps(
        dict(rows=rows, convergence=convergence, settings=asdict(settings),
             losses=asdict(losses), seeds=list(seeds), figures=figures),
        indent=1))
    return dict(rows=rows, text=text, convergence=convergence,
                figures=figures)


def _finished(work_dirs: Sequence[str]) -> List[Tuple[str, dict]]:
    """(work dir, its results) of each finished one of ``work_dirs``."""
    done = []
    for work_dir in work_dirs:
        path = osp.join(work_dir, RESULTS_FILE)
        if osp.isfile(path):
            with open(path) as f:
                done.append((work_dir, json.load(f)))
    return done


def _describe(losses: Losses) -> str:
    return (f'T={losses.temperature:g}, BinaryKLNorm weight '
            f'{losses.aux_weight:g}, KD weight {losses.kd_weight:g}, '
            f'{losses.distill_rois} sampled RoIs distilled')


def _convergence(results: Sequence[dict], settings: Settings) -> List[str]:
    """Lines judging whether the student alone has converged: its mean mAP
    per epoch and what it gained over the last quarter of the epochs."""
    if not results:
        return []
    epochs = settings.epochs
    curve = [statistics.mean(r['mAP'][e] for r in results)
             for e in range(epochs)]
    lines = ['Convergence of the student alone (mean over '
             f'{len(results)} seed(s)), bbox mAP in % per epoch: ' +
             ', '.join(f'{100 * v:.1f}' for v in curve)]
    gains = [g for g in (last_quarter_gain(r['mAP']) for r in results)
             if g is not None]
    if gains:
        back = max(1, round(epochs / 4))
        lines.append(
            f'gained over the last {back} of {epochs} epochs (epoch '
            f'{epochs - back} -> {epochs}): '
            f'{mean_std([100 * g for g in gains])} mAP points '
            f'(per seed: {", ".join(f"{100 * g:+.2f}" for g in gains)}); '
            'near 0 the curve has flattened, else the students are still '
            'learning and the comparison is one of learning speed')
    return [''] + lines + ['']
