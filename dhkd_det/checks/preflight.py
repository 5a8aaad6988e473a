"""The pre-flight: everything a run needs from outside its config, looked at
before anything is built, every problem listed at once with the config key
to set and the fix.

One failed start per missing thing cost the first hour of a new user (the
data root, then each annotation file, then a pretrained backbone's
download, then the teacher's), and a sweep without its data failed cell
after cell.  ``preflight`` collects, for the data loaders a tool reads:

- every data set's ``data_root`` (CIFAR-100's: its files, a placed archive,
  or its download address answering), ``ann_file`` and image folder, the
  evaluators' ``ann_file``; where ``CocoAuditHook`` is configured, the COCO
  files' contents (``checks.coco``);
- every pretrained ``init_cfg`` checkpoint of the model, ``load_from`` and,
  for training, ``model.teacher_ckpt``: a local file that exists, or a URL
  (zoo names resolved) that is cached or answers within a short timeout;
- the teacher's class count against the student's.

``check_preflight`` raises ``PreflightFailed``, whose message is the
report; ``problem_report`` renders problems of several runs (a sweep's
cells) with the runs each concerns.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import (Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple)

from mmengine.config import Config

from ..checkpoint.remote import local_alternative, resolve_url
from ..datasets import cifar_fetch
from ..utils.download import cached, unreachable
from .coco import audit_coco_datasets
from .dataset_cfgs import build_argument, dataset_cfgs, dataset_class

#: the evaluator each data loader is scored by
EVALUATOR_OF = {'val_dataloader': 'val_evaluator',
                'test_dataloader': 'test_evaluator'}


@dataclass(frozen=True)
class Problem:
    """``key``: the config key to set ('' when the problem is in a file);
    ``what``: what is missing or wrong, naming the key; ``fix``: what to
    do ('' when ``what`` says it)."""
    key: str
    what: str
    fix: str

    def lines(self) -> List[str]:
        return [self.what] + ([f'    fix: {self.fix}'] if self.fix else [])


class PreflightFailed(RuntimeError):
    """What a run needs is missing or unreachable; the message lists every
    problem found, each with its key and fix."""

    def __init__(self, problems: Sequence[Problem], subject: str = ''):
        self.problems = list(problems)
        super().__init__(problem_report(
            [(p, []) for p in self.problems], subject))


def problem_report(problems: Sequence[Tuple[Problem, Sequence[str]]],
                   subject: str = '') -> str:
    """The report of ``problems``, each with the runs it concerns (none:
    the one run), numbered, the fix under each."""
    head = (f'pre-flight of {subject}: ' if subject else 'pre-flight: ') + \
        f'{len(problems)} problem{"s" if len(problems) != 1 else ""}; ' \
        'nothing was built or started.'
    lines = [head]
    for i, (problem, runs) in enumerate(problems, 1):
        first, *rest = problem.lines()
        lines.append(f'{i:2d}. {first}')
        if runs:
            lines.append(f'    in {_runs(runs)}')
        lines += rest
    return '\n'.join(lines)


def _runs(runs: Sequence[str]) -> str:
    shown = ', '.join(runs[:4])
    more = f' and {len(runs) - 4} more' if len(runs) > 4 else ''
    return f'{len(runs)} run{"s" if len(runs) != 1 else ""}: {shown}{more}'


def _option(key: str, value: str) -> str:
    return f'--cfg-options {key}={value}'


def _cwd_note(path: str) -> str:
    return '' if osp.isabs(path) else \
        f' (relative to the current folder {os.getcwd()})'


class _Checker:
    """One pre-flight; ``probe(url, owner)`` answers whether a URL is
    reachable (None) or why not (``owner``: the module that knows the
    address, ``cifar_fetch`` for CIFAR-100's archive, else None)."""

    def __init__(self, cfg: Config,
                 probe: Callable[[str, object], Optional[str]]):
        self.cfg = cfg
        self.probe = probe
        self.problems: List[Problem] = []

    def add(self, key: str, what: str, fix: str) -> None:
        self.problems.append(Problem(key, what, fix))

    # --- data -----------------------------------------------------------

    def data(self, loaders: Sequence[str]) -> None:
        for key, ds in dataset_cfgs(self.cfg, loaders):
            root = ds.get('data_root')
            if isinstance(root, str) and root and '://' not in root:
                if not self.data_root(key, ds, root):
                    continue
            self.ann_file(key, ds, root)
            self.image_folder(key, ds, root)
        for loader in loaders:
            self.evaluator(EVALUATOR_OF.get(loader))

    def data_root(self, key: str, ds: dict, root: str) -> bool:
        """Whether the files under ``root`` are worth looking at."""
        fix = 'Point it at the data: ' + _option(f'{key}.data_root',
                                                 '/path/to/data')
        if osp.isfile(root):
            self.add(f'{key}.data_root',
                     f'{key}.data_root={root!r} is a file, not the folder '
                     'that holds the data', fix)
            return False
        cls = dataset_class(self.cfg, ds.get('type'))
        downloads = getattr(cls, '__name__', '') == 'CIFAR100' and \
            cls.__module__.startswith('dhkd_det.') and \
            build_argument(self.cfg, ds, 'download', False)
        if downloads:
            self.cifar100(key, root)
            return False
        if not osp.isdir(root):
            where = '' if osp.isabs(root) else (
                f' (a relative path: relative to the current folder '
                f'{os.getcwd()}, so run the tool from the folder that holds '
                'it, e.g. the repository root, or give an absolute path)')
            self.add(f'{key}.data_root',
                     f'{key}.data_root={root!r} does not exist{where}', fix)
            return False
        return True

    def cifar100(self, key: str, root: str) -> None:
        """CIFAR100 with ``download=True``: its files, a placed archive, or
        its download address answering."""
        folder = osp.join(root, cifar_fetch.FOLDER)
        if all(osp.isfile(osp.join(folder, f)) for f in cifar_fetch.FILES):
            return
        archive = osp.join(root, cifar_fetch.ARCHIVE)
        if osp.isfile(archive):
            return  # placed by hand: the data set checks and extracts it
        place = (f'place {cifar_fetch.ARCHIVE} (md5 '
                 f'{cifar_fetch.ARCHIVE_MD5}, from {cifar_fetch.ARCHIVE_URL})'
                 f' in {osp.abspath(root)}/, or point '
                 f'{key}.data_root at a folder holding '
                 f'{cifar_fetch.FOLDER}/{{train,test,meta}}')
        why = self.probe(cifar_fetch.ARCHIVE_URL, cifar_fetch)
        if why:
            self.add(f'{key}.data_root',
                     f'{key}.data_root: CIFAR-100 is not in {folder}'
                     f'{_cwd_note(root)} and its download address '
                     f'{cifar_fetch.ARCHIVE_URL} cannot be reached ({why})',
                     'Without network access, ' + place)

    def ann_file(self, key: str, ds: dict, root) -> None:
        ann = ds.get('ann_file')
        if not isinstance(ann, str) or not ann or '://' in ann:
            return
        path = osp.join(root, ann) if isinstance(root, str) and root and \
            not osp.isabs(ann) else ann
        if not osp.isfile(path):
            self.add(f'{key}.ann_file',
                     f'{key}.ann_file: annotation file {path} does not '
                     f'exist{_cwd_note(path)}',
                     _option(f'{key}.ann_file', '/path/to/annotations.json')
                     + ' (relative paths are under data_root)')

    def image_folder(self, key: str, ds: dict, root) -> None:
        prefix = ds.get('data_prefix')
        img = prefix.get('img') if isinstance(prefix, dict) else None
        if not isinstance(img, str) or not img or '://' in img:
            return
        path = osp.join(root, img) if isinstance(root, str) and root and \
            not osp.isabs(img) else img
        if not osp.isdir(path):
            self.add(f'{key}.data_prefix.img',
                     f'{key}.data_prefix.img: image folder {path} does not '
                     f'exist{_cwd_note(path)}',
                     _option(f'{key}.data_prefix.img', 'images/') +
                     ' (relative to data_root)')

    def evaluator(self, name: Optional[str]) -> None:
        evaluators = self.cfg.get(name) if name else None
        if isinstance(evaluators, dict):
            evaluators = [(name, evaluators)]
        elif isinstance(evaluators, (list, tuple)):
            evaluators = [(f'{name}.{i}', e) for i, e in
                          enumerate(evaluators)]
        else:
            return
        for key, ev in evaluators:
            ann = ev.get('ann_file') if isinstance(ev, dict) else None
            if isinstance(ann, str) and ann and '://' not in ann and \
                    not osp.isfile(ann):
                self.add(f'{key}.ann_file',
                         f'{key}.ann_file: annotation file {ann} of the '
                         f'metric {ev.get("type")} does not exist'
                         f'{_cwd_note(ann)}',
                         _option(f'{key}.ann_file',
                                 '/path/to/instances_val2017.json'))

    def coco_contents(self, loaders: Sequence[str]) -> None:
        """The COCO audit (opt-in: ``CocoAuditHook``), once every file is
        there: its first error, which names the file and the key."""
        try:
            audit_coco_datasets(self.cfg, loaders)
        except (ValueError, OSError, KeyError, TypeError) as err:
            # its message names the file, the key and the fix
            self.add('', str(err).strip("'\""), '')

    # --- weights --------------------------------------------------------

    def weights(self, key: str, name, what: str) -> None:
        """A checkpoint named at ``key``: a local file, or a URL / zoo name
        cached or answering."""
        if not isinstance(name, str) or not name:
            return
        if '://' not in name:
            if osp.isdir(name):
                self.add(key, f'{key}: {what} {name} is a folder, not a '
                         'checkpoint file',
                         _option(key, '/path/to/checkpoint.pth'))
            elif not osp.isfile(name):
                self.add(key, f'{key}: {what} {name} does not exist'
                         f'{_cwd_note(name)}',
                         f'place the file at {osp.abspath(name)}, or '
                         + _option(key, '/path/to/checkpoint.pth'))
            return
        try:
            url = resolve_url(name)
        except KeyError as err:
            self.add(key, f'{key}: ' + str(err).strip("'\""),
                     _option(key, '/path/to/checkpoint.pth'))
            return
        if url is None or cached(url):
            return  # another storage backend, or downloaded already
        why = self.probe(url, None)
        if why:
            shown = name if name == url else f'{name} ({url})'
            self.add(key, f'{key}: {what} {shown} is not cached and cannot '
                     f'be downloaded ({why})',
                     local_alternative(name, url, key))

    def pretrained(self, node, key: str) -> None:
        """Every ``init_cfg`` of type Pretrained under the model config
        ``node`` (the teacher's own are not read: its checkpoint replaces
        its weights)."""
        if isinstance(node, dict):
            for name, value in node.items():
                if name == 'teacher' and key == 'model':
                    continue
                if name == 'init_cfg':
                    inits = value if isinstance(value, list) else [value]
                    for i, init in enumerate(inits):
                        if isinstance(init, dict) and \
                                init.get('type') == 'Pretrained':
                            where = f'{key}.init_cfg' + (
                                f'.{i}' if isinstance(value, list) else '')
                            self.weights(f'{where}.checkpoint',
                                         init.get('checkpoint'),
                                         'pretrained weights')
                else:
                    self.pretrained(value, f'{key}.{name}')
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                self.pretrained(value, f'{key}.{i}')

    def teacher(self) -> None:
        model = self.cfg.get('model') or {}
        if 'teacher' not in model or model.get('teacher') is None:
            return
        ckpt = model.get('teacher_ckpt')
        if not ckpt:
            self.add('model.teacher_ckpt', 'model.teacher_ckpt is not set: '
                     'distillation needs a trained teacher',
                     'train one (configs/teachers/) or download it, then ' +
                     _option('model.teacher_ckpt', 'PATH'))
        else:
            self.weights('model.teacher_ckpt', ckpt, 'teacher checkpoint')
        self.class_counts(model)

    def class_counts(self, model: dict) -> None:
        teacher = model.get('teacher')
        if isinstance(teacher, str):
            try:
                teacher = _teacher_model(teacher)
            except Exception as err:  # the build will name it again
                self.add('model.teacher', f'model.teacher: the teacher '
                         f'config {teacher!r} cannot be read '
                         f'({type(err).__name__}: {err})',
                         'give a config file path, an "mmdet::<config>.py" '
                         'name, or a model dict in model.teacher')
                return
        theirs = _num_classes(teacher, 'model.teacher')
        ours = _num_classes(model.get('student'), 'model.student')
        if theirs and ours and theirs[1] != ours[1]:
            self.add(theirs[0],
                     f'{theirs[0]}: the teacher predicts {theirs[1]} '
                     f'classes and the student {ours[1]} ({ours[0]})',
                     f'give both the class count of the data: '
                     f'{_option(theirs[0], ours[1])} with a teacher '
                     f'checkpoint of {ours[1]} classes, or '
                     f'{_option(ours[0], theirs[1])}')


def _teacher_model(name: str) -> dict:
    if '::' in name:
        from mmengine.hub import get_config
        return get_config(name).model
    return Config.fromfile(name).model


def _num_classes(node, key: str) -> Optional[Tuple[str, int]]:
    """(key, value) of the class count of a model config: its
    ``num_classes``, else its network's, else its box heads' (the last
    stage of a cascade)."""
    if not isinstance(node, dict):
        return None
    if isinstance(node.get('num_classes'), int):
        return f'{key}.num_classes', node['num_classes']
    for name in ('network', 'roi_head', 'bbox_head'):
        inner = node.get(name)
        if isinstance(inner, (list, tuple)) and inner:
            found = _num_classes(inner[-1], f'{key}.{name}.{len(inner) - 1}')
        else:
            found = _num_classes(inner, f'{key}.{name}')
        if found:
            return found
    return None


#: URL -> why it is unreachable ('' when it answered), in this process: a
#: sweep's hundreds of cells share a few addresses
_probed: Dict[str, str] = {}


def _probe(url: str, owner) -> Optional[str]:
    """Whether ``url`` answers (None) or why not, asked once a process; the
    CIFAR archive through ``cifar_fetch.archive_unreachable`` (which the
    tests replace)."""
    if url not in _probed:
        _probed[url] = owner.archive_unreachable() if owner is cifar_fetch \
            else (unreachable(url) or '')
    return _probed[url] or None


def distils(cfg: Config) -> bool:
    """Whether a run of ``cfg`` reads its teacher: a distillation loss, or
    ``DHKDHook`` (which loads it before training).  A CE baseline of a
    distillation config (a sweep's 'ce' cell) keeps the teacher's keys but
    never loads it."""
    model = cfg.get('model') or {}
    hooks = [h.get('type') for h in cfg.get('custom_hooks') or []
             if isinstance(h, dict)]
    losses = {k: v for k, v in (model.get('distill_losses') or {}).items()
              if k != '_delete_'}
    return bool(losses) or 'DHKDHook' in hooks


def preflight(cfg: Config, loaders: Sequence[str],
              teacher: Optional[bool] = None) -> List[Problem]:
    """Every problem of ``cfg`` for a run reading ``loaders`` (e.g.
    ``('train_dataloader', 'val_dataloader')``), nothing built.
    ``teacher``: whether the teacher's checkpoint is needed (default: when
    the run trains, i.e. reads ``train_dataloader``, and distils)."""
    if teacher is None:
        teacher = 'train_dataloader' in loaders and distils(cfg)
    check = _Checker(cfg, _probe)
    check.data(loaders)
    if not check.problems:
        check.coco_contents(loaders)
    check.pretrained(cfg.get('model'), 'model')
    if cfg.get('load_from') and not cfg.get('resume'):
        check.weights('load_from', cfg.load_from, 'load_from checkpoint')
    if teacher:
        check.teacher()
    return check.problems


def check_preflight(cfg: Config, loaders: Sequence[str],
                    subject: str = '', **kwargs) -> None:
    """``preflight``, raising ``PreflightFailed`` (the report) when it
    found anything."""
    problems = preflight(cfg, loaders, **kwargs)
    if problems:
        raise PreflightFailed(problems, subject)


def gather(runs: Iterable[Tuple[str, List[Problem]]]
           ) -> List[Tuple[Problem, List[str]]]:
    """The problems of several runs (name, problems), each listed once with
    the runs it concerns, in the order first found."""
    order: Dict[Problem, List[str]] = {}
    for name, problems in runs:
        for problem in problems:
            order.setdefault(problem, []).append(name)
    return list(order.items())
