"""``--resume`` without a path: the newest complete checkpoint of the work
dir.  MMEngine's ``find_latest_checkpoint`` trusts ``last_checkpoint`` alone:
a run killed between writing its first checkpoint and ``last_checkpoint``
would start from scratch and overwrite that checkpoint.

It never leaves the run's own folders (the work dir and the checkpoint
hook's ``out_dir`` for it): a copied work dir keeps the old run's absolute
path in ``last_checkpoint``, and following it would resume another run."""
import glob
import logging
import os.path as osp
from typing import List, Optional

from mmengine.logging import print_log
from mmengine.runner import find_latest_checkpoint

from ..checkpoint.read import read_checkpoint


def checkpoint_dir(cfg) -> Optional[str]:
    """Where the checkpoint hook of ``cfg`` writes when it has an
    ``out_dir`` (MMEngine appends the work dir's name), else None."""
    hook = (cfg.get('default_hooks') or {}).get('checkpoint') or {}
    out_dir = hook.get('out_dir')
    if not out_dir or '://' in str(out_dir):
        return None
    name = osp.basename(str(cfg.work_dir).rstrip(osp.sep))
    return osp.join(str(out_dir), name)


def _inside(path: str, folders: List[str]) -> bool:
    where = osp.dirname(osp.realpath(path))
    return any(where == osp.realpath(f) for f in folders)


def _named(work_dir: str, folders: List[str]) -> Optional[str]:
    """The checkpoint ``last_checkpoint`` names, resolved inside the run's
    folders: a path elsewhere (another run's, kept by a copied work dir) is
    replaced by the file of the same name in the work dir, or ignored."""
    named = find_latest_checkpoint(work_dir)
    if not named or '://' in named or _inside(named, folders):
        return named
    record = osp.join(work_dir, 'last_checkpoint')
    here = [osp.join(f, osp.basename(named)) for f in folders]
    here = next((p for p in here if osp.isfile(p)), None)
    print_log(
        f'--resume: {record} names {named}, outside {" and ".join(folders)} '
        '(a copied or moved work dir?): ' +
        (f'reading {here}, the file of that name here, instead'
         if here else 'ignored; no file of that name here') +
        '. A resume never reads another run\'s checkpoint; give '
        '--resume PATH to resume from one on purpose.', 'current',
        logging.WARNING)
    return here


def _candidates(folders: List[str], named: Optional[str]) -> List[str]:
    """The training checkpoints of the run's folders (best ones hold no
    optimizer and are not resumed from) and the one ``last_checkpoint``
    names."""
    paths = [p for f in folders
             for p in glob.glob(osp.join(glob.escape(f), '*.pth'))
             if not osp.basename(p).startswith('best_')]
    if named and named not in paths:
        paths.append(named)
    return paths


def newest_complete_checkpoint(work_dir: str,
                               ckpt_dir: Optional[str] = None
                               ) -> Optional[str]:
    """The readable training checkpoint of ``work_dir`` (and of
    ``ckpt_dir``, the checkpoint hook's ``out_dir`` for it) that is furthest
    into training (by its saved iteration), or None when there is none.
    Damaged ones are named and skipped; when all are damaged, the error of
    the one ``last_checkpoint`` names (or the first) is raised: starting
    afresh would silently replace them."""
    folders = [work_dir] + ([ckpt_dir] if ckpt_dir and osp.realpath(
        ckpt_dir) != osp.realpath(work_dir) else [])
    newest, newest_at, damaged = None, None, []
    named = _named(work_dir, folders)
    for path in _candidates(folders, named):
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
