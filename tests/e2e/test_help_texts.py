"""Every command's ``--help`` says what it does in full sentences: its
description starts with a capital letter and ends with a full stop, never
mid-sentence (a description cut at the docstring's first line break)."""
import glob
import json
import os.path as osp
import re
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: every script of tools/ that is a command: its own argument parser, or a
#: wrapper of one of the package's (tools/train.py: dhkd_det/cli/train.py)
COMMANDS = sorted(
    f for f in glob.glob(osp.join(REPO, 'tools', '**', '*.py'), recursive=True)
    if 'argparse' in open(f).read() or 'dhkd_det.cli' in open(f).read())
SECTION = re.compile(r'^(positional arguments|options|optional arguments):',
                     re.M)

pytestmark = pytest.mark.slow


def description(help_text: str) -> str:
    """The text between the usage block and the first argument section."""
    head = SECTION.split(help_text, maxsplit=1)[0]
    blocks = [b for b in head.split('\n\n') if b.strip()]
    assert blocks and blocks[0].startswith('usage:'), help_text[:200]
    return ' '.join(' '.join(blocks[1:]).split())


def test_every_command_is_found():
    names = {osp.relpath(f, REPO) for f in COMMANDS}
    assert {'tools/train.py', 'tools/test.py', 'tools/reproduce.py',
            'tools/demo_det.py', 'tools/analysis/ablate_heads.py'} <= names


#: run in one interpreter, so that torch and MMEngine are imported once
DRIVER = r"""
import contextlib, io, json, runpy, sys
texts = {}
for path in sys.argv[1:]:
    out = io.StringIO()
    sys.argv = [path, '--help']
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_path(path, run_name='__main__')
        except SystemExit as stop:
            texts[path] = out.getvalue() if stop.code in (0, None) else None
print(json.dumps(texts))
"""


def test_help_ends_in_a_full_sentence():
    out = subprocess.run([sys.executable, '-c', DRIVER, *COMMANDS], cwd=REPO,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    texts = json.loads(out.stdout.strip().splitlines()[-1])
    problems = []
    for command in COMMANDS:
        name = osp.relpath(command, REPO)
        if texts.get(command) is None:
            problems.append(f'{name}: --help did not exit 0')
            continue
        text = description(texts[command])
        if not text or not text[0].isupper() or not text.endswith(
                ('.', '!', '?')):
            problems.append(f'{name}: the --help description does not read '
                            f'as full sentences: {text!r}')
    assert not problems, '\n'.join(problems)
