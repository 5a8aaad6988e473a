"""docs/architecture.md is true where a test can tell: every path it cites
exists (a table row's bare file names inside that row's packages or
folder), every name it cites is defined in the repository or by the
libraries it names, every link reaches a heading, its table of layers is
test_layers.py's LAYERS, and what it says of which distillers import
dhkd_det/optim holds."""
import ast
import builtins
import glob
import importlib
import itertools
import os.path as osp
import re

import pytest

from cls_utils import REPO
from test_layers import LAYERS, ROOT, imported_subpackages

DOC = osp.join(REPO, 'docs', 'architecture.md')
#: where a cited path may start (a path inside the package, a config
#: folder or a tool is often cited from there)
ROOTS = ('', 'dhkd_det', 'configs', 'tools', 'docs')
#: backticked tokens that look like paths and are not: what they are
NOT_PATHS = {'train/*': "the message hub's training scalars",
             # where a wheel carries the configs (setup.py copies them
             # there); a checkout has none
             'dhkd_det/.mim/configs': "a wheel's folder",
             '.mim/configs/': "a wheel's folder"}
#: the libraries whose names the page cites, where those names live
LIBRARIES = ('builtins', 'torch', 'torch.nn', 'torch.distributed',
             'mmengine.runner', 'mmengine.optim', 'mmengine.hooks',
             'mmengine.logging', 'mmengine.model', 'mmengine.fileio',
             'mmengine.config.utils',
             'mmdet.models', 'mmdet.evaluation')
PATH = re.compile(r'^[\w.*{},<>-]+(/[\w.*{},<>-]*)+$|^[\w-]+\.(py|sh|md)$')
NAME = re.compile(r'^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(\(.*\))?$')


def text():
    with open(DOC, encoding='utf-8') as f:
        return f.read()


def ticks(line):
    return re.findall(r'`([^`]+)`', line)


def expand(pattern):
    """Brace alternatives (``{a,b}``) expanded, a placeholder
    (``<method>``) standing for any name."""
    pattern = re.sub(r'<[^>/]*>', '*', pattern)
    parts = re.split(r'\{([^}]*)\}', pattern)
    choices = [[p] if i % 2 == 0 else p.split(',')
               for i, p in enumerate(parts)]
    return [''.join(c) for c in itertools.product(*choices)]


def exists(path, roots=ROOTS):
    for root in roots:
        for one in expand(path):
            if not glob.glob(osp.join(REPO, root, one.rstrip('/'))):
                break
        else:
            return True
    return False


def anywhere(name):
    """A bare file or folder name somewhere in the package, configs or
    tools."""
    name = name.rstrip('/')
    return any(glob.glob(osp.join(REPO, top, '**', name), recursive=True)
               for top in ('dhkd_det', 'configs', 'tools'))


def table_rows(section):
    """The cells of each row of the first table of ``section``."""
    body = text().split(f'## {section}\n', 1)[1].split('\n## ', 1)[0]
    rows = [line for line in body.splitlines() if line.startswith('| ')]
    return [[c.strip() for c in row.strip('|').split(' | ')]
            for row in rows[1:]]


def test_layer_table_is_the_tested_constant():
    layers = []
    for number, packages, _ in table_rows('The layers'):
        names = [t.split('/')[-1] for t in ticks(packages)]
        layers.append((int(number), tuple(names)))
    assert layers == list(enumerate(LAYERS, 1))


def test_layer_table_files_are_in_their_packages():
    wrong = []
    for _, packages, holds in table_rows('The layers'):
        folders = [osp.join('dhkd_det', t.split('/')[-1])
                   for t in ticks(packages)]
        for token in ticks(holds):
            if PATH.match(token) and not exists(token, folders):
                wrong.append(f'{token} (in {", ".join(folders)})')
    assert not wrong, wrong


def test_idea_table_files_exist():
    """A row names its first file by its path and the next ones by name,
    in the same folder."""
    wrong = []
    for _, files in table_rows('Where each idea lives'):
        folder = ''
        for token in ticks(files):
            if not PATH.match(token):
                continue
            if '/' in token.rstrip('/'):
                folder = osp.dirname(token.rstrip('/'))
                found = exists(token, ('', ))
            else:
                found = exists(token, (folder, ))
            if not found:
                wrong.append(token)
    assert not wrong, wrong


def test_every_cited_path_exists():
    wrong = []
    for token in sorted(set(ticks(text()))):
        if token in NOT_PATHS or not PATH.match(token):
            continue
        if not (exists(token) or ('/' not in token.rstrip('/')
                                  and anywhere(token))):
            wrong.append(token)
    assert not wrong, wrong


def defined_names():
    """Every name the repository's code, configs and tests define or use as a
    key: classes, functions, arguments, keywords, assigned names and
    attributes, string constants that are names (registered types, modes,
    config keys), and module names."""
    names = set()
    for path in itertools.chain(*(glob.glob(osp.join(REPO, top, '**', '*.py'),
                                            recursive=True)
                                  for top in ('dhkd_det', 'configs',
                                              'tools', 'tests'))):
        names.add(osp.splitext(osp.basename(path))[0])
        names.add(osp.basename(osp.dirname(path)))
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, (ast.ClassDef, ast.FunctionDef,
                                 ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.keyword) and node.arg:
                names.add(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx,
                                                           ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(
                    node.value, str) and node.value.isidentifier():
                names.add(node.value)
    return names


def library_name(dotted):
    for module in LIBRARIES:
        try:
            obj = importlib.import_module(module)
        except ImportError:
            continue
        for part in dotted.split('.'):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        else:
            return True
    return False


def test_every_cited_name_exists():
    pytest.importorskip('mmdet')
    known = defined_names()
    wrong = []
    for token in sorted(set(ticks(text()))):
        match = NAME.match(token)
        if not match or PATH.match(token):
            continue
        dotted = match.group(1)
        if dotted.startswith('dhkd_det'):
            importlib.import_module(dotted)
            continue
        if not (all(p in known for p in dotted.split('.'))
                or library_name(dotted)):
            wrong.append(token)
    assert not wrong, wrong
    assert library_name('MessageHub.update_scalar')
    assert not library_name('NoSuchThing')
    assert hasattr(builtins, 'ValueError')


def slug(heading):
    """GitHub's anchor of a heading."""
    heading = re.sub(r'[`*_]', '', heading.strip().lower())
    heading = re.sub(r'[^\w\- ]', '', heading)
    return heading.replace(' ', '-')


def test_links_reach_their_headings():
    wrong = []
    for target in re.findall(r'\]\(([^)\s]+)\)', text()):
        if '://' in target:
            continue
        file, _, anchor = target.partition('#')
        path = osp.join(REPO, 'docs', file) if file else DOC
        if not osp.isfile(path):
            wrong.append(target)
            continue
        if anchor:
            with open(path, encoding='utf-8') as f:
                headings = [slug(line.lstrip('#')) for line in f
                            if line.startswith('#')]
            if anchor not in headings:
                wrong.append(target)
    assert not wrong, wrong


def test_which_distillers_import_optim():
    """The page says the eager step names no wrapper class and only the
    captured step imports dhkd_det/optim."""
    importing = sorted(path.name for path in (ROOT / 'distillers').rglob(
        '*.py') if any(pkg == 'optim' for _, pkg in
                       imported_subpackages(path)))
    assert importing == ['graphed_step.py']
    assert 'only `graphed_step.py` imports' in ' '.join(text().split())
