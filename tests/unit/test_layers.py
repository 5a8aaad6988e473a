"""Dependencies point down the package's layers: no module imports one of a
higher layer, not even lazily inside a function or for an ``isinstance``."""
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
)
LAYER_OF = {pkg: i for i, pkgs in enumerate(LAYERS) for pkg in pkgs}
ROOT = Path(osp.dirname(dhkd_det.__file__))


def imported_subpackages(path: Path):
    """(line, subpackage of dhkd_det) of every import in ``path``."""
    parts = path.relative_to(ROOT.parent).with_suffix('').parts
    package = parts[:-1]  # what a relative import of level 1 names
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name.split('.') for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) \
                if node.level else []
            module = base + (node.module.split('.') if node.module else [])
            # `from . import x` / `from dhkd_det import x`: x may be a package
            names = [module + [alias.name] for alias in node.names] \
                if len(module) == 1 else [module]
        else:
            continue
        for name in names:
            if name[0] == 'dhkd_det' and len(name) > 1 and \
                    name[1] in LAYER_OF:
                yield node.lineno, name[1]


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
