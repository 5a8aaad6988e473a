"""``--resume`` without a path: the newest complete checkpoint of the work
dir.  MMEngine's ``find_latest_checkpoint`` trusts ``last_checkpoint`` alone:
a run killed between writing its first checkpoint and ``last_checkpoint``
would start from scratch and overwrite that checkpoint."""
import glob
import logging
import os.path as osp
from typing import List, Optional

from mmengine.logging import print_log
from mmengine.runner import find_latest_checkpoint

from ..checkpoint.read import read_checkpoint


def _candidates(work_dir: str) -> List[str]:
    """The training checkpoints of ``work_dir`` (best ones hold no optimizer
    and are not resumed from) and the one ``last_checkpoint`` names, which
    may lie in another ``out_dir``."""
    paths = [p for p in glob.glob(osp.join(glob.escape(work_dir), '*.pth'))
             if not osp.basename(p).startswith('best_')]
    named = find_latest_checkpoint(work_dir)
    if named and named not in paths:
        paths.append(named)
    return paths


def newest_complete_checkpoint(work_dir: str) -> Optional[str]:
    """The readable training checkpoint of ``work_dir`` that is furthest
    into training (by its saved iteration), or None when there is none.
    Damaged ones are named and skipped; when all are damaged, the error of
    the one ``last_checkpoint`` names (or the first) is raised: starting
    afresh would silently replace them."""
    newest, newest_at, damaged = None, None, []
    named = find_latest_checkpoint(work_dir)
    for path in _candidates(work_dir):
        what = '--resume checkpoint' + (
            f' (named by {osp.join(work_dir, "last_checkpoint")})'
            if path == named else '')
        try:
            # mmap: the keys and meta are read, the tensors are not
            meta = read_checkpoint(path, what, mmap=True).get('meta')
        except (ValueError, FileNotFoundError) as err:
            print_log(f'not resuming from {path}: {err}', 'current',
                      logging.WARNING)
            damaged.insert(0 if path == named else len(damaged), err)
            continue
        if not isinstance(meta, dict) or 'iter' not in meta:
            continue  # not written by the trainer (a teacher, an export)
        at = (meta['iter'], meta.get('epoch', 0), osp.getmtime(path))
        if newest_at is None or at > newest_at:
            newest, newest_at = path, at
    if newest is None and damaged:
        raise damaged[0]
    return newest
