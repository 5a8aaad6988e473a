"""A training run as MMEngine left it in its work dir: the scalars of every
session (``<timestamp>/vis_data/scalars.json``, one JSON object a line, a
resumed run adding a session), the merged config it dumped, and the log's
time stamps."""
import glob
import json
import os
import os.path as osp
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, List, Optional

_STAMP = re.compile(r'^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) - ')


@dataclass
class Run:
    """``train``: the records logged while training (they have ``iter``),
    by global iteration; ``val``: the validation records, by ``step`` (the
    epoch, or the iteration for iteration-based loops).  A step logged again
    by a resumed session replaces the earlier record."""
    work_dir: str
    train: List[dict] = field(default_factory=list)
    val: List[dict] = field(default_factory=list)
    config_file: Optional[str] = None
    wall_seconds: float = 0.0

    @property
    def name(self) -> str:
        return osp.basename(osp.normpath(self.work_dir))

    def keys(self, part: str) -> List[str]:
        seen: Dict[str, None] = {}
        for record in getattr(self, part):
            seen.update(dict.fromkeys(record))
        return list(seen)

    def series(self, part: str, key: str):
        """(steps, values) of ``key`` in ``part`` ('train' or 'val')."""
        x_key = 'iter' if part == 'train' else 'step'
        points = [(r[x_key], r[key]) for r in getattr(self, part)
                  if key in r and isinstance(r[key], (int, float))]
        return [p[0] for p in points], [p[1] for p in points]


def read_run(work_dir: str, live: bool = False) -> Run:
    """``live``: the run may be writing its scalars now; a last line
    still being written (no line end yet) is left out instead of being
    named as damaged."""
    sessions = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                         'scalars.json')))
    if not sessions:
        raise FileNotFoundError(
            f'{work_dir!r} holds no <timestamp>/vis_data/scalars.json: give '
            'the --work-dir of a run of tools/train.py (with the default '
            'LocalVisBackend)')
    train: Dict[int, dict] = {}
    val: Dict[int, dict] = {}
    for path in sessions:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    if live and not line.endswith('\n'):
                        break  # being written: the next reading has it
                    raise ValueError(f'{path}, line {number}: not JSON '
                                     f'({err}); was the file cut off?') from err
                if 'iter' in record:
                    train[record['iter']] = record
                elif 'step' in record:
                    val[record['step']] = record
    configs = sorted(glob.glob(osp.join(work_dir, '*.py')))
    return Run(work_dir=work_dir,
               train=[train[k] for k in sorted(train)],
               val=[val[k] for k in sorted(val)],
               config_file=configs[0] if configs else None,
               wall_seconds=sum(_log_span(osp.dirname(osp.dirname(p)))
                                for p in sessions))


def _log_span(session_dir: str) -> float:
    """A session's wall time: from the first to the last time stamp of its
    log, or, where the log holds fewer than two (a run logging at WARNING),
    from the session's start (its folder's name, MMEngine's local time
    stamp) to its last written file; 0 when neither is known."""
    span = _stamp_span(session_dir)
    return span if span > 0 else _file_span(session_dir)


def _file_span(session_dir: str) -> float:
    try:
        start = time.mktime(time.strptime(osp.basename(session_dir),
                                          '%Y%m%d_%H%M%S'))
    except ValueError:
        return 0.0
    ends = [osp.getmtime(osp.join(root, name))
            for root, _, names in os.walk(session_dir) for name in names]
    return max(0.0, max(ends) - start) if ends else 0.0


def _stamp_span(session_dir: str) -> float:
    """Seconds between the first and last time stamp of a session's log."""
    logs = glob.glob(osp.join(session_dir, '*.log'))
    stamps = []
    for path in logs:
        with open(path, errors='replace') as f:
            for line in f:
                match = _STAMP.match(line)
                if match:
                    stamps.append(datetime.strptime(match.group(1),
                                                    '%Y/%m/%d %H:%M:%S'))
    return (max(stamps) - min(stamps)).total_seconds() if stamps else 0.0
