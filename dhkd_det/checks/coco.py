"""A look at the COCO annotation files (and the images they list) of a
config before any data set is built.

MMDetection's CocoDataset reads its annotation file when it is built and
fails on a malformed one with errors that do not name the file
(``JSONDecodeError``, ``KeyError: 'categories'``, ``TypeError`` on a box
with a string in it), and on a training set left empty with MMEngine's
"need at least one array to concatenate"; a missing or unreadable image only
fails when an epoch reaches it; two images under one id become one image
with the boxes of both; annotations of a category the file does not define,
of an image the file does not list, and boxes it cannot use are dropped,
and class names listed in another order than the file's categories train
under each other's names, without a word.  Here the tools check every COCO
data set of the config first (every split the tool reads), and name every
annotation MMDetection will drop."""
import json
import logging
import math
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config
from mmengine.logging import print_log

from .dataset_cfgs import dataset_cfgs, dataset_class

# the first bytes of the image formats OpenCV / Pillow decode
_IMAGE_MAGIC = (b'\xff\xd8\xff', b'\x89PNG', b'GIF8', b'BM', b'II*\x00',
                b'MM\x00*', b'RIFF', b'P1', b'P2', b'P3', b'P4', b'P5',
                b'P6', b'\x00\x00\x00\x0cjP')


def read_coco(ann_file: str) -> dict:
    """The content of a COCO detection file, or an error naming the file:
    missing, not JSON, without images / annotations / categories, with a
    box that is not four finite numbers, an image id used twice, or an
    annotation of a category not in ``categories``."""
    try:
        with open(ann_file) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(
            f'annotation file {ann_file!r} not found: set the dataset\'s '
            'data_root / ann_file in the config') from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f'annotation file {ann_file!r} is not valid JSON '
                         f'({err}); is the file complete?') from None
    missing = [k for k in ('images', 'annotations', 'categories')
               if not isinstance(data, dict) or k not in data]
    if missing:
        raise ValueError(
            f'annotation file {ann_file!r} has no {missing}: not a COCO '
            'detection file, which holds "images", "annotations" and '
            '"categories" (a list of {"id": ..., "name": ...}, one per '
            'class; MMDetection reads the class ids and names from it). '
            'Point the ann_file at the instances_*.json of the split, or '
            'add the missing lists to the file.')
    for ann in data['annotations']:
        box = ann.get('bbox')
        if not (isinstance(box, list) and len(box) == 4 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool)
                and math.isfinite(v) for v in box)):
            raise ValueError(
                f'annotation file {ann_file!r}: annotation id '
                f'{ann.get("id")} (image {ann.get("image_id")}) has bbox '
                f'{box!r}; COCO boxes are four numbers [x, y, width, height]')
    _check_image_ids(ann_file, data['images'])
    _check_category_ids(ann_file, data)
    return data


def _some(items: list, limit: int = 5) -> str:
    return ', '.join(map(repr, items[:limit])) + (
        f' and {len(items) - limit} more' if len(items) > limit else '')


def _check_image_ids(ann_file: str, images: List[dict]) -> None:
    """pycocotools keys images by id: of two images under one id the last
    is kept, with the annotations of both."""
    files = defaultdict(list)
    for img in images:
        files[img.get('id')].append(img.get('file_name'))
    shared = [f'id {i}: {_some(names)}' for i, names in files.items()
              if len(names) > 1]
    if shared:
        raise ValueError(
            f'annotation file {ann_file!r}: {len(shared)} image id(s) are '
            f'used by more than one image ({"; ".join(shared[:5])}); '
            'MMDetection would keep one image per id and give it the boxes '
            'of all of them. Give every image its own id, and each '
            'annotation the image_id of its image.')


def _check_category_ids(ann_file: str, data: dict) -> None:
    """MMDetection skips annotations whose category it does not train,
    which is how a config trains on a subset of the classes (metainfo
    classes): that stays.  A category_id the file does not define at all
    is a broken file, not a choice, so it stops the run."""
    defined = {c.get('id') for c in data['categories']}
    unknown = [a for a in data['annotations']
               if a.get('category_id') not in defined]
    if unknown:
        ann_ids = [a.get('id') for a in unknown]
        category_ids = sorted({a.get('category_id') for a in unknown},
                              key=str)
        raise ValueError(
            f'annotation file {ann_file!r}: {len(unknown)} annotation(s) '
            'have a category_id that is not in its categories (annotation '
            f'ids {_some(ann_ids)}; category_id {_some(category_ids)}; the '
            f'categories are {_some(sorted(defined, key=str), 10)}); '
            'MMDetection would drop them without a word. Add the missing '
            'categories to "categories", or correct the category_id of '
            'those annotations.')


#: why MMDetection's CocoDataset leaves an annotation out, in the order
#: the audit names them: never read (its image_id is no image's), marked
#: ``ignore``, too small (w or h < 1 pixel, area <= 0), no overlap with its
#: image, a category the data set does not train (metainfo.classes)
DROP_REASONS = ('orphan', 'ignored', 'small', 'outside', 'untrained')


def _overlaps(box: list, img: dict) -> bool:
    """MMDetection's test: the box and the image share a positive area
    (an image without its size is not judged)."""
    width, height = img.get('width'), img.get('height')
    if not isinstance(width, (int, float)) or \
            not isinstance(height, (int, float)):
        return True
    x, y, w, h = box
    inter_w = max(0, min(x + w, width) - max(x, 0))
    inter_h = max(0, min(y + h, height) - max(y, 0))
    return inter_w * inter_h > 0


def dropped_annotations(data: dict, classes: Optional[Sequence[str]] = None
                        ) -> Dict[str, List[dict]]:
    """The annotations of ``data`` (as ``read_coco`` returns it) that
    MMDetection's CocoDataset leaves out, by reason (``DROP_REASONS``);
    ``classes``: the data set's metainfo classes (None: every category
    trained).  Every other annotation is kept (crowd boxes too, as ignore
    regions)."""
    images = {img.get('id'): img for img in data['images']}
    trained = None if classes is None else {
        c.get('id') for c in data['categories'] if c.get('name') in
        set(classes)}
    dropped: Dict[str, List[dict]] = {r: [] for r in DROP_REASONS}
    for ann in data['annotations']:
        img = images.get(ann.get('image_id'))
        box = ann['bbox']
        if img is None:
            reason = 'orphan'
        elif ann.get('ignore', False):
            reason = 'ignored'
        elif box[2] < 1 or box[3] < 1 or ann.get('area', 1) <= 0:
            reason = 'small'
        elif not _overlaps(box, img):
            reason = 'outside'
        elif trained is not None and ann.get('category_id') not in trained:
            reason = 'untrained'
        else:
            continue
        dropped[reason].append(ann)
    return dropped


def audit_coco_boxes(ann_file: str) -> List[dict]:
    """The annotations whose box MMDetection will skip (width or height
    below 1 pixel, or zero area, a negative width included; or wholly
    outside its image), in the file's order; errors as ``read_coco``."""
    data = read_coco(ann_file)
    dropped = dropped_annotations(data)
    skipped = {id(a) for a in dropped['small'] + dropped['outside']}
    return [a for a in data['annotations'] if id(a) in skipped]


def _examples(anns: List[dict]) -> str:
    return ', '.join(f'id {a.get("id")} (image {a.get("image_id")}): '
                     f'{a["bbox"]}' for a in anns[:3]) + (
                         ', ...' if len(anns) > 3 else '')


def _count(n: int, one: str, many: str) -> str:
    return f'{n} {one if n == 1 else many}'


def describe_dropped(ann_file: str, data: dict,
                     classes: Optional[Sequence[str]] = None,
                     key: str = '') -> Optional[str]:
    """The warning naming the annotations of ``ann_file`` MMDetection will
    drop without a message (orphans, boxes it cannot use), with a tally of
    every annotation (kept, dropped by reason, left out as configured), or
    None when it drops none of them by mistake."""
    dropped = dropped_annotations(data, classes)
    if not any(dropped[r] for r in ('orphan', 'small', 'outside')):
        return None
    parts = []
    orphans = dropped['orphan']
    if orphans:
        ids = ', '.join(str(a.get('id')) for a in orphans[:5]) + (
            ', ...' if len(orphans) > 5 else '')
        image_ids = list(dict.fromkeys(a.get('image_id') for a in orphans))
        parts.append(
            f"{_count(len(orphans), 'annotation', 'annotations')} whose "
            f"image_id is not an image's id (ids {ids}; image_id "
            f"{', '.join(map(str, image_ids[:5]))}"
            f"{', ...' if len(image_ids) > 5 else ''})")
    outside = dropped['outside']
    if outside:
        parts.append(f"{_count(len(outside), 'box', 'boxes')} wholly "
                     f'outside its image ({_examples(outside)})')
    small = dropped['small']
    if small:
        parts.append(f"{_count(len(small), 'box', 'boxes')} with a width or "
                     f'height below 1 pixel or zero area ({_examples(small)})')
    negative = any(a['bbox'][2] < 0 or a['bbox'][3] < 0 for a in small)
    hint = (' Negative sizes usually mean [x1, y1, x2, y2] was written where '
            'COCO wants [x, y, width, height].' if negative else '')
    configured = []
    if dropped['ignored']:
        configured.append(f"{len(dropped['ignored'])} marked ignore")
    if dropped['untrained']:
        configured.append(f"{len(dropped['untrained'])} of a category not "
                          'in metainfo.classes')
    total = len(data['annotations'])
    kept = total - sum(map(len, dropped.values()))
    where = f'{key}: ' if key else ''
    unread = sum(len(dropped[r]) for r in ('orphan', 'small', 'outside'))
    return (f'{where}of the {total} annotations in {ann_file}, {unread} '
            f'are skipped by MMDetection without a message: '
            f'{"; ".join(parts)}.{hint}'
            + (f' Left out as configured: {", ".join(configured)}.'
               if configured else '')
            + f' {kept} are kept.')


def _image_problem(path: str) -> str:
    """'' for a file that looks like an image, else what is wrong: a fast
    look at the first bytes, not a decode."""
    try:
        with open(path, 'rb') as f:
            head = f.read(16)
    except FileNotFoundError:
        return 'missing'
    except OSError as err:
        return f'unreadable ({err.strerror})'
    if not head:
        return 'unreadable (empty file)'
    if not head.startswith(_IMAGE_MAGIC):
        return f'unreadable (not an image: starts with {head[:8]!r})'
    return ''


def audit_images(data: dict, img_dir: str, ann_file: str, key: str) -> None:
    """Raise naming the counts and the first files when images listed in
    ``data`` are missing under ``img_dir`` or are not image files."""
    problems = {}
    for img in data['images']:
        name = img.get('file_name', '')
        problem = _image_problem(osp.join(img_dir, name))
        if problem:
            problems[name] = problem
    if not problems:
        return
    missing = [n for n, p in problems.items() if p == 'missing']
    bad = [f'{n}: {p}' for n, p in problems.items() if p != 'missing']
    parts = []
    if missing:
        parts.append(f'{len(missing)} are missing (e.g. {missing[:3]})')
    if bad:
        parts.append(f'{len(bad)} cannot be read (e.g. {bad[:3]})')
    raise FileNotFoundError(
        f'of the {len(data["images"])} images {ann_file} lists, '
        f'{" and ".join(parts)} under {img_dir}. Set {key}.data_root / '
        'data_prefix.img to the image folder, or fix the files / the '
        'file_name entries.')


def check_not_empty(data: dict, ds: dict, ann_file: str, key: str) -> None:
    """Raise when the data set ``ds`` (config key ``key``) built from
    ``data`` would hold no image, which MMEngine reports as "need at least
    one array to concatenate": the file lists no images, or it has no
    annotations and a training set's ``filter_cfg.filter_empty_gt`` drops
    every image without one.  (An image-only file with filter_empty_gt off,
    e.g. the unlabelled part of a semi-supervised run, is fine.)"""
    if not data['images']:
        raise ValueError(
            f'annotation file {ann_file!r} lists no images, so {key} would '
            f'be empty. Point {key}.ann_file at the file of the split.')
    filter_empty_gt = (ds.get('filter_cfg') or {}).get('filter_empty_gt')
    if not data['annotations'] and filter_empty_gt and \
            not ds.get('test_mode'):
        raise ValueError(
            f'annotation file {ann_file!r} has no annotations, and '
            f'{key}.filter_cfg.filter_empty_gt=True drops every image '
            f'without one, so {key} would be empty. Point {key}.ann_file at '
            'the file with the boxes (image-info files such as '
            'image_info_test-dev2017.json list none), or set '
            f'{key}.filter_cfg.filter_empty_gt=False to train on the '
            'images without boxes.')


def dataset_classes(cfg: Config, ds: dict) -> Optional[tuple]:
    """The class names the data set built from ``ds`` will have: its
    ``metainfo.classes``, else its class's own (CocoDataset's 80)."""
    classes = (ds.get('metainfo') or {}).get('classes')
    if classes is None:
        cls = dataset_class(cfg, ds.get('type'))
        classes = (getattr(cls, 'METAINFO', None) or {}).get('classes')
    return tuple(classes) if classes else None


def check_class_order(ann_file: str, data: dict, classes: Sequence[str],
                      key: str) -> None:
    """MMDetection numbers the classes it trains in the order of the file's
    categories (pycocotools' ``getCatIds``), whatever the order of
    ``metainfo.classes``, which only names them: names in another order
    train every box under another class's name.  (Names the file lacks are
    ``check_detection_classes``'s, once the data set is built.)"""
    names = set(classes)
    in_file = tuple(c.get('name') for c in data['categories']
                    if c.get('name') in names)
    found = set(in_file)
    listed = tuple(n for n in classes if n in found)
    if in_file == listed:
        return
    raise ValueError(
        f'{key}.metainfo.classes {tuple(classes)} lists the classes in '
        f"another order than the file: {ann_file}'s categories are in the "
        f'order {in_file}. MMDetection numbers the classes in the order of '
        "the file's categories, not of metainfo (which only names them), "
        "so the boxes of each class would train and be evaluated under "
        f'another class\'s name. Set {key}.metainfo=dict(classes={in_file}) '
        "(the file's order; a teacher or checkpoint must use that order "
        "too), or reorder the file's categories.")


#: (annotation file, classes) whose dropped annotations were named already
#: in this process (the tools' audit, then the hook)
_named: set = set()


def warn_dropped(ann_file: str, data: Optional[dict] = None,
                 classes: Optional[Sequence[str]] = None,
                 key: str = '', max_dropped: Optional[float] = None) -> None:
    """Log ``describe_dropped``'s warning for ``ann_file``, once per file
    and classes in a process; with ``max_dropped`` (a share of the file's
    annotations, 0 for none) more silent drops than that stop the run."""
    check_max_dropped(max_dropped)
    data = data or read_coco(ann_file)
    text = describe_dropped(ann_file, data, classes, key)
    if text and max_dropped is not None:
        dropped = dropped_annotations(data, classes)
        unread = sum(len(dropped[r]) for r in ('orphan', 'small', 'outside'))
        total = max(len(data['annotations']), 1)
        if unread / total > max_dropped:
            raise ValueError(
                f'{text} That is {unread / total:.1%} of the file, above '
                f'CocoAuditHook(max_dropped={max_dropped}): fix the '
                'annotations named above, or raise max_dropped in the '
                "config's custom_hooks to train without them.")
    seen = (osp.realpath(ann_file), tuple(classes) if classes else None)
    if seen in _named:
        return
    _named.add(seen)
    if text:
        print_log(text, 'current', logging.WARNING)


def check_max_dropped(max_dropped) -> None:
    """``max_dropped`` is None or a share in [0, 1]."""
    if max_dropped is None:
        return
    if isinstance(max_dropped, bool) or \
            not isinstance(max_dropped, (int, float)) or \
            not 0 <= max_dropped <= 1:
        raise ValueError(
            f'CocoAuditHook(max_dropped={max_dropped!r}): give the share of '
            "a file's annotations that may be dropped without a message, "
            'from 0 (none) to 1, or None to only warn')


def audit_max_dropped(cfg: Config) -> Optional[float]:
    """``max_dropped`` of the config's ``CocoAuditHook`` (None: warn only)."""
    for hook in cfg.get('custom_hooks') or []:
        if isinstance(hook, dict) and hook.get('type') == 'CocoAuditHook':
            return hook.get('max_dropped')
    return None


def is_coco_dataset(cls: type) -> bool:
    """Whether ``cls`` is MMDetection's CocoDataset or a subclass, without
    importing MMDetection (the classification path runs without it)."""
    return any(c.__name__ == 'CocoDataset' and
               c.__module__.startswith('mmdet.datasets')
               for c in getattr(cls, '__mro__', ()))


def _resolve(path: str, root) -> str:
    return osp.join(root, path) if root and not osp.isabs(path) else path


def audit_coco_datasets(cfg: Config, loaders: Sequence[str]) -> None:
    """Check the annotation files and images of every COCO data set (by its
    registered type: CocoDataset or a subclass) of the ``loaders`` of
    ``cfg`` (the class names' order against the file's categories too),
    name the annotations MMDetection will drop, and read the evaluators'
    annotation files, before anything is built; only where
    ``CocoAuditHook`` is in custom_hooks (opt-in)."""
    if not any(isinstance(h, dict) and h.get('type') == 'CocoAuditHook'
               for h in cfg.get('custom_hooks') or []):
        return
    checked = set()
    for key, ds in dataset_cfgs(cfg, loaders):
        if not isinstance(ds.get('ann_file'), str) or \
                not is_coco_dataset(dataset_class(cfg, ds.get('type'))):
            continue
        root = ds.get('data_root')
        ann_file = _resolve(ds['ann_file'], root)
        img_dir = _resolve((ds.get('data_prefix') or {}).get('img', ''),
                           root)
        if '://' in ann_file + img_dir:
            continue  # remote storage: MMDetection's file backends
        data = read_coco(ann_file)
        check_not_empty(data, ds, ann_file, key)
        classes = dataset_classes(cfg, ds)
        if classes:
            check_class_order(ann_file, data, classes, key)
        warn_dropped(ann_file, data, classes, key, audit_max_dropped(cfg))
        audit_images(data, img_dir, ann_file, key)
        checked.add(osp.abspath(ann_file))
    evaluator_keys = {'val_dataloader': 'val_evaluator',
                      'test_dataloader': 'test_evaluator'}
    for loader in loaders:
        evaluators = cfg.get(evaluator_keys.get(loader)) or []
        for ev in evaluators if isinstance(evaluators, list) else \
                [evaluators]:
            ann_file = ev.get('ann_file') if isinstance(ev, dict) else None
            if isinstance(ann_file, str) and ann_file.endswith('.json') \
                    and '://' not in ann_file and \
                    osp.abspath(ann_file) not in checked:
                read_coco(ann_file)
                checked.add(osp.abspath(ann_file))
