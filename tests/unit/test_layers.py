"""Dependencies point down the package's layers: no module imports one of a
higher layer, not even lazily inside a function or for an ``isinstance``,
through ``importlib`` or through an attribute of the package."""
import ast
import os.path as osp
from pathlib import Path

import dhkd_det

#: dhkd_det's subpackages, lowest layer first; a module may import its own
#: layer and those before it (the package's ``__init__`` imports them all)
LAYERS = (
    ('ops', 'utils'),
    ('losses', 'models', 'datasets', 'evaluation', 'analysis'),
    ('heads', ),
    ('checkpoint', 'optim'),
    ('distillers', ),
    ('checks', ),
    ('engine', ),
    ('apis', ),
    ('testing', ),
    ('experiments', 'benchmarks'),
    ('cli', ),
)
LAYER_OF = {pkg: i for i, pkgs in enumerate(LAYERS) for pkg in pkgs}
ROOT = Path(osp.dirname(dhkd_det.__file__))


def _resolve(name: str, package) -> list:
    """A module name as ``importlib.import_module`` takes it (``'.x'``
    relative to ``package``), as parts."""
    level = len(name) - len(name.lstrip('.'))
    if not level:
        return name.split('.')
    base = list(package[:len(package) - level + 1])
    return base + [p for p in name[level:].split('.') if p]


def _dynamic_import(node) -> bool:
    """Whether ``node`` calls ``importlib.import_module`` (however
    imported) or ``__import__``."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(
        func, 'id', None)
    return name in ('import_module', '__import__')


def imports_in(source: str, parts) -> list:
    """(line, subpackage of dhkd_det) of every import in ``source``, the
    text of the module whose dotted name is ``parts``: import statements,
    ``importlib.import_module`` / ``__import__`` of a constant name, and
    attribute access through the package (``dhkd_det.engine.X`` after
    ``import dhkd_det``, under any alias)."""
    package = parts[:-1]  # what a relative import of level 1 names
    tree = ast.parse(source)
    # the names `import dhkd_det[.x] [as d]` binds to the package itself
    roots = {'dhkd_det'}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.asname for a in node.names
                      if a.name == 'dhkd_det' and a.asname}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name.split('.') for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) \
                if node.level else []
            module = base + (node.module.split('.') if node.module else [])
            # `from . import x` / `from dhkd_det import x`: x may be a package
            names = [module + [alias.name] for alias in node.names] \
                if len(module) == 1 else [module]
        elif isinstance(node, ast.Call) and _dynamic_import(node) and \
                node.args and isinstance(node.args[0], ast.Constant) and \
                isinstance(node.args[0].value, str):
            names = [_resolve(node.args[0].value, package)]
        elif isinstance(node, ast.Attribute) and isinstance(
                node.value, ast.Name) and node.value.id in roots:
            names = [['dhkd_det', node.attr]]
        else:
            continue
        for name in names:
            if name[0] == 'dhkd_det' and len(name) > 1 and \
                    name[1] in LAYER_OF:
                found.append((node.lineno, name[1]))
    return found


def imported_subpackages(path: Path):
    """(line, subpackage of dhkd_det) of every import in ``path``."""
    parts = path.relative_to(ROOT.parent).with_suffix('').parts
    return imports_in(path.read_text(), parts)


def test_the_walk_sees_every_kind_of_import():
    """Static, relative, lazy, ``importlib`` and attribute imports of a
    higher layer are all found, with their lines."""
    source = (
        'import importlib\n'
        'from importlib import import_module\n'
        'import dhkd_det\n'
        'import dhkd_det as pkg\n'
        'from ..engine import hooks\n'
        'def f():\n'
        '    from dhkd_det.apis import runner\n'
        "    importlib.import_module('dhkd_det.testing.coco')\n"
        "    import_module('..experiments', 'dhkd_det.losses')\n"
        "    __import__('dhkd_det.benchmarks')\n"
        '    return dhkd_det.checks.x, pkg.engine\n')
    found = imports_in(source, ('dhkd_det', 'losses', 'mod'))
    assert sorted(found) == [(5, 'engine'), (7, 'apis'), (8, 'testing'),
                             (9, 'experiments'), (10, 'benchmarks'),
                             (11, 'checks'), (11, 'engine')]


def test_every_subpackage_has_a_layer():
    found = {p.name for p in ROOT.iterdir()
             if (p / '__init__.py').is_file()}
    assert found <= set(LAYER_OF), found - set(LAYER_OF)


def test_no_module_imports_a_higher_layer():
    wrong = []
    for path in sorted(ROOT.rglob('*.py')):
        rel = path.relative_to(ROOT)
        if len(rel.parts) == 1:  # the package root registers every layer
            continue
        own = LAYER_OF[rel.parts[0]]
        for line, target in imported_subpackages(path):
            if LAYER_OF[target] > own:
                wrong.append(f'dhkd_det/{rel}:{line} ({rel.parts[0]}) '
                             f'imports dhkd_det.{target}')
    assert not wrong, '\n'.join(wrong)
