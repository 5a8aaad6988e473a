"""The ``dhkd_det`` scope of MMEngine, so that a user's config can inherit
ours by the package's name, as MMDetection's are inherited by ``mmdet::``:

    _base_ = 'dhkd_det::dhkd/coco_faster_rcnn_r101_r50.py'

MMEngine resolves such a name to ``<installed dhkd_det>/.mim/configs/...``
(a wheel carries the configs there) and accepts only the packages of its
``MODULE2PACKAGE`` table: ``register_config_package`` adds this one.  It
then builds every inherited dict with a ``type`` in the ``dhkd_det`` scope
(``_scope_='dhkd_det'``), importing this module and looking for registries
of that scope: these are they, empty children of MMDetection's registries
(of MMEngine's where MMDetection is not installed), so that a type resolves
as under the config's own default scope, to our modules (registered in
MMEngine's registries) and to MMDetection's.

``import dhkd_det`` imports this module, so the ``dhkd-*`` commands (and
any script that imports the package before reading a config) read such
configs."""
from importlib.util import find_spec

import mmengine.registry as _mmengine_registry
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.registry import Registry

SCOPE = 'dhkd_det'
#: MMEngine's registries that get a ``dhkd_det`` child
NAMES = ('RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'STRATEGIES',
         'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
         'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS',
         'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS',
         'METRICS', 'EVALUATOR', 'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS',
         'LOG_PROCESSORS', 'INFERENCERS', 'FUNCTIONS')


def register_config_package() -> None:
    """Let MMEngine's config reader take ``dhkd_det::`` names."""
    MODULE2PACKAGE.setdefault(SCOPE, SCOPE)


def _parents() -> dict:
    """name -> the registry a ``dhkd_det`` registry falls back to."""
    parents = {name: getattr(_mmengine_registry, name) for name in NAMES
               if hasattr(_mmengine_registry, name)}
    # (mmdet's package imports mmcv)
    if find_spec('mmdet') is not None and find_spec('mmcv') is not None:
        import mmdet.registry as mmdet_registry
        parents.update({name: getattr(mmdet_registry, name)
                        for name in parents
                        if hasattr(mmdet_registry, name)})
    return parents


def _scoped_registries() -> dict:
    """A registry named as its parent, of scope ``dhkd_det``, for each of
    ``NAMES`` (the existing one where another import made it already)."""
    registries = {}
    for name, parent in _parents().items():
        existing = parent.children.get(SCOPE)
        registries[name] = existing or Registry(
            parent.name, parent=parent, scope=SCOPE, locations=[SCOPE])
    return registries


register_config_package()
globals().update(_scoped_registries())
