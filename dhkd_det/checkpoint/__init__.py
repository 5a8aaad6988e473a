"""Every way dhkd_det writes and reads a checkpoint: atomic writes, safe
(weights-only) loading of MMEngine checkpoints, the one key matching of
every reader (``keys``), and reading one for resume, load_from, test, the
teacher and export."""
from .atomic_file import atomic_path, atomic_write_text
from .export import export_state, export_student, plain_student_state
from .for_test import load_for_test
from .keys import (KEY_PREFIXES, KeyMatch, extract_state_dict, match_keys,
                   mismatch_error)
from .load_from import check_load_from
from .read import read_checkpoint
from .remote import fetch_checkpoint, resolve_url
from .resume import check_resume
from .safe_load import allow_mmengine_checkpoints
from .teacher import load_teacher_checkpoint

__all__ = [
    'KEY_PREFIXES', 'KeyMatch', 'allow_mmengine_checkpoints', 'atomic_path',
    'atomic_write_text', 'check_load_from', 'check_resume', 'export_state',
    'export_student', 'extract_state_dict', 'load_for_test',
    'load_teacher_checkpoint', 'match_keys', 'mismatch_error',
    'fetch_checkpoint', 'plain_student_state', 'read_checkpoint',
    'resolve_url'
]
