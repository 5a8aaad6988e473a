"""The offline detection demo: DHKD on Faster R-CNN, end to end, on real data
that ships with scikit-learn, in about 4 minutes on 2 idle CPU cores.

scikit-learn's handwritten digits are pasted, 1-4 per image, at random sizes
and places on small dark canvases and written as a COCO-format detection set
(10 classes '0'..'9'; the val images draw their digits from a held-out split
of the digit images, see ``dhkd_det.datasets.digits_as_coco``).  Then,
through the very configs `tools/train.py` uses, shrunk to small models (a
ResNet-18 backbone, a narrow FPN and box head, few proposals, no pretrained
weights) and the small images:

  1. teacher: Faster R-CNN, full-width ResNet-18
        (mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py, the DHKD
         config's teacher, shrunk), trained here;
  2. student alone: Faster R-CNN, half-width ResNet-18
        (mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py, the DHKD
         config's student, shrunk);
  3. student + KD on its main classifier
        (configs/kd/coco_faster_rcnn_r101_r50.py);
  4. student + DHKD: BinaryKLNorm on a second, aux classifier
        (configs/dhkd/coco_faster_rcnn_r101_r50.py);

the three students with the same schedule, seed and data, the distilled ones
from the checkpoint the teacher run saved.  Each is validated with
MMDetection's CocoMetric on the held-out val set every epoch; the last
validation is the table's.  The distilled runs also measure how the task and
the distillation gradients meet (GradDiagnosticsHook), and every run's
curves are drawn into one set of figures.

    python tools/demo_det.py                 # the default run (~4 min)
    python tools/demo_det.py --smoke         # a ~30 s check that it all runs

``run_demo`` is the demo; tools/demo_det.py (and ``tools/demo.py --task
det``) its command line.
"""
import json
import os
import os.path as osp
import time
from dataclasses import asdict, dataclass, replace
from typing import Dict, List, Optional

import torch

from ..analysis import markdown_table, plot_panels, plot_runs, read_run
from ..analysis.panels import GRAD_GROUPS, overview_panels
from ..apis import train_in_process
from ..datasets import digits_as_coco
from ..testing import (CONFIGS, coco_loaders, dotted, mmdet_configs,
                       small_overrides)
from ..utils.quiet import quiet_pycocotools
from ..utils.paths import CONFIG_ROOT

#: the demo runs from a checkout: the distillation configs are the
#: repository's
MMDET_CONFIGS = mmdet_configs()
TEACHER_CONFIG = osp.join(MMDET_CONFIGS, 'faster_rcnn',
                          'faster-rcnn_r101_fpn_2x_coco.py')
STUDENT_CONFIG = osp.join(MMDET_CONFIGS, CONFIGS['faster_rcnn'])
KD_CONFIG = osp.join(CONFIG_ROOT, 'configs', 'kd', 'coco_faster_rcnn_r101_r50.py')
DHKD_CONFIG = osp.join(CONFIG_ROOT, 'configs', 'dhkd', 'coco_faster_rcnn_r101_r50.py')
CLASSES = tuple(str(d) for d in range(10))
#: the panels of figures/overview.png
OVERVIEW_PANELS = overview_panels('coco/bbox_mAP')


@dataclass(frozen=True)
class Settings:
    """The size of a demo run: the data, the models' widths, the schedule."""
    canvas: int  # image side in pixels
    num_train: int  # training images
    num_val: int  # val images (held-out digits)
    epochs: int  # of each student
    teacher_epochs: int
    batch_size: int
    lr: float
    teacher_width: int  # base_channels of the teacher's ResNet-18
    student_width: int  # base_channels of the students' ResNet-18
    fpn_width: int  # FPN / RPN / RoI feature channels, all models
    fc_width: int  # box-head fc channels, all models
    grad_interval: int  # iterations between gradient measurements
    score_thr: float  # of the detections evaluated (MMDetection: 0.05)


DEFAULT = Settings(canvas=96, num_train=320, num_val=80, epochs=6,
                   teacher_epochs=10, batch_size=8, lr=0.01, teacher_width=64,
                   student_width=32, fpn_width=64, fc_width=128,
                   grad_interval=10, score_thr=0.05)
SMOKE = Settings(canvas=64, num_train=16, num_val=8, epochs=1,
                 teacher_epochs=1, batch_size=4, lr=0.01, teacher_width=16,
                 student_width=8, fpn_width=16, fc_width=32, grad_interval=2,
                 # models this untrained score every box below 0.05, and
                 # CocoMetric computes no mAP from no detections
                 score_thr=0.0)


def detector(width: int, settings: Settings) -> dict:
    """Overrides turning MMDetection's R50/R101-FPN Faster R-CNN into a small
    one trained from scratch: ResNet-18 of ``width`` base channels, narrow
    FPN and box head, few proposals (``dhkd_det.testing.small_overrides``).
    Without pretrained weights the backbone must train whole, so its first
    stage is not frozen and its BatchNorm layers learn their statistics."""
    return small_overrides(
        'faster_rcnn', num_classes=len(CLASSES), base_channels=width,
        width=settings.fpn_width, fc_width=settings.fc_width,
        score_thr=settings.score_thr, from_scratch=True)


def data_options(data_root: str, settings: Settings) -> dict:
    """The COCO loaders and evaluator pointed at the digits: the images at
    their size, no flip (a mirrored digit is not a digit), no workers."""
    return dotted(coco_loaders(
        data_root, CLASSES, (settings.canvas, settings.canvas),
        batch_size=settings.batch_size, test_batch_size=4))


def schedule_options(epochs: int, iters_per_epoch: int, settings: Settings,
                     seed: int) -> dict:
    """MMDetection's 2x schedule shrunk to ``epochs``: the same SGD at the
    learning rate of ``settings`` (MMDetection's 0.02 is for 16 images a
    batch), a linear warm-up over the first epoch instead of 500
    iterations, and the learning-rate steps at the same fractions of
    training (16/24, 22/24); a validation after every epoch; one
    checkpoint, at the end."""
    warmup = max(1, min(500, iters_per_epoch))
    milestones = sorted({max(1, round(epochs * 16 / 24)),
                         max(1, round(epochs * 22 / 24))})
    return {
        'train_cfg.max_epochs': epochs,
        'train_cfg.val_interval': 1,
        'optim_wrapper.optimizer.lr': settings.lr,
        # from scratch, a step of the KD run blew the classifier up without
        # it (as MMDetection clips its RetinaNet / FCOS-family training)
        'optim_wrapper.clip_grad': dict(max_norm=35, norm_type=2),
        'param_scheduler': [
            dict(type='LinearLR', start_factor=0.001, by_epoch=False,
                 begin=0, end=warmup),
            dict(type='MultiStepLR', begin=0, end=epochs, by_epoch=True,
                 milestones=milestones, gamma=0.1)
        ],
        'default_hooks.checkpoint.interval': epochs,
        'default_hooks.checkpoint.max_keep_ckpts': 1,
        'default_hooks.logger.interval': settings.grad_interval,
        # per-iteration values in the scalars (the loss curves)
        'log_processor.window_size': 1,
        'randomness': dict(seed=seed),
        'log_level': 'WARNING',
    }


@dataclass
class Result:
    name: str
    label: str
    bbox_mAP: float
    bbox_mAP_50: float
    seconds: float  # wall time of training and validation
    cpu_seconds: float  # CPU time of this process meanwhile, all threads
    checkpoint: str
    work_dir: str


def train(name: str, label: str, config: str, options: dict,
          work_root: str, epochs: int, hooks: List[dict]) -> Result:
    """Train one config with the demo's overrides and ``hooks`` added to its
    custom_hooks, validating after every epoch; the last validation is the
    result."""
    start, cpu_start = time.time(), time.process_time()
    with quiet_pycocotools():
        cfg = train_in_process(config, options, osp.join(work_root, name),
                               name, hooks)
    seconds = time.time() - start
    cpu_seconds = time.process_time() - cpu_start
    last = read_run(cfg.work_dir).val[-1:]
    if not last or last[0].get('step') != epochs:
        raise RuntimeError(f'{name}: the validation after epoch {epochs} '
                           f'left no record in {cfg.work_dir}')
    if 'coco/bbox_mAP' not in last[0]:
        # CocoMetric computes nothing when there is no detection at all
        print(f'[demo_det] {name}: no detection on the val set above the '
              'score threshold, so no mAP from CocoMetric: counted as 0',
              flush=True)
    return Result(name=name, label=label,
                  bbox_mAP=float(last[0].get('coco/bbox_mAP', 0.0)),
                  bbox_mAP_50=float(last[0].get('coco/bbox_mAP_50', 0.0)),
                  seconds=seconds, cpu_seconds=cpu_seconds,
                  checkpoint=osp.join(cfg.work_dir, f'epoch_{epochs}.pth'),
                  work_dir=cfg.work_dir)


def results_table(results: List[Result]) -> str:
    return markdown_table(
        [{'model': r.label, 'bbox mAP': f'{r.bbox_mAP:.3f}',
          'mAP@50': f'{r.bbox_mAP_50:.3f}', 'time (s)': f'{r.seconds:.0f}'}
         for r in results], first_columns=('model', ))


def final_gradients(work_dir: str) -> Dict[str, Optional[float]]:
    """The last logged ``grad/cos_<group>`` and ``grad/conflict_<group>``
    of a run (None for a group it does not have)."""
    run = read_run(work_dir)
    out = {}
    for group in GRAD_GROUPS:
        for kind in ('cos', 'conflict'):
            _, values = run.series('train', f'grad/{kind}_{group}')
            out[f'{kind}_{group}'] = values[-1] if values else None
    return out


def gradient_table(rows: Dict[str, Dict[str, Optional[float]]]) -> str:
    """Per run, each group's last cosine and (in brackets) the fraction of
    measurements where it was negative."""
    cells = []
    for label, grads in rows.items():
        row = {'run': label}
        for group in GRAD_GROUPS:
            cos, conflict = grads[f'cos_{group}'], grads[f'conflict_{group}']
            row[f'cos {group} (conflict)'] = (
                '-' if cos is None else f'{cos:+.3f} ({conflict:.2f})')
        cells.append(row)
    return markdown_table(cells, first_columns=('run', ))


def settings_for(smoke: bool = False, epochs: Optional[int] = None,
                 teacher_epochs: Optional[int] = None) -> Settings:
    """SMOKE or DEFAULT, with the students' and the teacher's epochs where
    given."""
    changes = {key: value for key, value in (('epochs', epochs),
                                             ('teacher_epochs',
                                              teacher_epochs))
               if value is not None}
    for key, value in changes.items():
        if value < 1:
            raise ValueError(f'{key} must be >= 1, got {value}')
    return replace(SMOKE if smoke else DEFAULT, **changes)


def run_demo(work_dir: str = 'demo_det_runs', seed: int = 0,
             settings: Settings = DEFAULT) -> dict:
    """The four runs, their tables printed and their figures drawn under
    ``work_dir`` (data, runs, figures and results.json); returns what
    results.json holds."""
    if 'OMP_NUM_THREADS' not in os.environ:  # else torch follows it
        torch.set_num_threads(max(1, os.cpu_count() or 1))
    t0 = time.time()
    work_root = osp.abspath(work_dir)
    data_root = osp.join(work_root, 'data')
    canvas = settings.canvas
    sizes = digits_as_coco(
        data_root, num_train=settings.num_train, num_val=settings.num_val,
        canvas=canvas, seed=seed,
        digit_sizes=(round(canvas * 0.14), round(canvas * 0.34)))
    print(f'[demo_det] digits as COCO at {data_root}: '
          f'{sizes["train"]["images"]} train images '
          f'({sizes["train"]["boxes"]} digits), {sizes["val"]["images"]} '
          f'val images ({sizes["val"]["boxes"]} held-out digits), '
          f'{canvas}x{canvas}', flush=True)

    iters = -(-settings.num_train // settings.batch_size)
    data = data_options(data_root, settings)
    student = dotted(dict(model=detector(settings.student_width, settings)))
    schedule = schedule_options(settings.epochs, iters, settings, seed)
    diagnosed = []

    def run(step: int, name: str, label: str, config: str, epochs: int,
            options: dict, diagnose: bool = False) -> Result:
        # (MMDetection first: a virtualenv inside the checkout holds it)
        shown = ('mmdet::' + osp.relpath(config, MMDET_CONFIGS)
                 if config.startswith(MMDET_CONFIGS) else
                 osp.relpath(config, CONFIG_ROOT))
        print(f'[demo_det] run {step}/4: {label}  ({shown}, {epochs} '
              'epochs)', flush=True)
        hooks = [dict(type='ProgressHook', label=name,
                      interval=max(1, iters // 2))]
        if diagnose:
            hooks.append(dict(type='GradDiagnosticsHook',
                              interval=settings.grad_interval))
            diagnosed.append(name)
        result = train(name, label, config, options, work_root, epochs,
                       hooks)
        print(f'[demo_det] {name}: bbox mAP {result.bbox_mAP:.3f}, mAP@50 '
              f'{result.bbox_mAP_50:.3f} ({result.seconds:.0f} s)',
              flush=True)
        return result

    teacher = run(
        1, 'teacher', f'teacher: Faster R-CNN, ResNet-18 width '
        f'{settings.teacher_width}', TEACHER_CONFIG, settings.teacher_epochs,
        {**data, **dotted(dict(model=detector(settings.teacher_width,
                                              settings))),
         **schedule_options(settings.teacher_epochs, iters, settings,
                            seed)})
    student_label = f'student (ResNet-18 width {settings.student_width})'
    results = [teacher, run(2, 'student_alone', f'{student_label} alone',
                            STUDENT_CONFIG, settings.epochs,
                            {**data, **student, **schedule})]
    # as a user would: the teacher's config as its run saved it, and the
    # checkpoint it wrote
    distill = {**data, **schedule,
               **{'model.student.' + k[len('model.'):]: v
                  for k, v in student.items()},
               'model.teacher': saved_config(teacher.work_dir,
                                             TEACHER_CONFIG),
               'model.teacher_ckpt': teacher.checkpoint}
    results.append(run(3, 'student_kd', f'{student_label} + KD, main head',
                       KD_CONFIG, settings.epochs, distill, diagnose=True))
    results.append(run(4, 'student_dhkd',
                       f'{student_label} + DHKD, aux head', DHKD_CONFIG,
                       settings.epochs, distill, diagnose=True))
    total = time.time() - t0

    grads = {r.label: final_gradients(r.work_dir) for r in results
             if r.name in diagnosed}
    runs = [read_run(r.work_dir) for r in results]
    figures = plot_runs(runs, osp.join(work_root, 'figures'))
    # one figure for a glance: mAP, and where the two losses meet
    figures.append(plot_panels(
        runs, OVERVIEW_PANELS, osp.join(work_root, 'figures', 'overview.png'),
        title=f'digits as COCO, Faster R-CNN (seed {seed})'))
    print(f'\nDHKD detection demo: digits on {canvas}x{canvas} canvases, '
          f'{sizes["train"]["images"]} train / {sizes["val"]["images"]} val '
          f'images (held-out digits), seed {seed}; students '
          f'{settings.epochs} epochs, teacher {settings.teacher_epochs}; '
          f'{total:.0f} s in all')
    print(results_table(results))
    print('\nGradients of the task vs the distillation loss at the last '
          'measurement (every '
          f'{settings.grad_interval} iterations): cosine, and in brackets '
          'the fraction of measurements where it was negative')
    print(gradient_table(grads))
    print('\nFigures:')
    for path in figures:
        print(f'  {path}')
    summary = dict(
        runs={r.name: asdict(r) for r in results},
        gradients={r.name: grads[r.label] for r in results
                   if r.label in grads},
        figures=figures, total_seconds=total, seed=seed,
        settings=asdict(settings), data=sizes)
    with open(osp.join(work_root, 'results.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    return summary


def saved_config(work_dir: str, config: str) -> str:
    """The merged config a run's Runner dumped into its work dir."""
    path = osp.join(work_dir, osp.basename(config))
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'the teacher run did not leave its config at {path}: MMEngine '
            'dumps it there when the Runner is built')
    return path
