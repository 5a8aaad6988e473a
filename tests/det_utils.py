"""Detection test glue: the mmdet registry scope as a fixture, config files
and detector checkpoints in tmp dirs.  The tiny COCO set and the small
detectors are ``dhkd_det.testing``'s (imported here under the names the
tests use)."""
import copy
import os.path as osp
from typing import Optional

import pytest
from mmengine.registry import DefaultScope

from dhkd_det.testing import (CLASSES, SMALL_FASTER_RCNN,  # noqa: F401
                              SMALL_RETINANET, small_cascade_rcnn,
                              small_data_cfg, small_faster_rcnn,
                              small_retinanet, write_tiny_coco)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(autouse=True)
def mmdet_scope():
    """Builds by type name resolve in MMDetection's registries, as under a
    Runner with ``default_scope='mmdet'``; the previous scope comes back
    after the test, so other test modules keep theirs.  Import it into a
    test module to use it there."""
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


def write_config(path: str, text: str) -> str:
    with open(path, 'w') as f:
        f.write(text)
    return path


def save_detector(path: str, model_cfg: dict, seed: int = 0,
                  state: Optional[dict] = None):
    """Builds ``model_cfg``, initialises it with ``seed`` (or loads
    ``state``) and saves it as an MMEngine checkpoint; returns the model."""
    import torch
    from mmdet.registry import MODELS
    torch.manual_seed(seed)
    model = MODELS.build(copy.deepcopy(model_cfg))
    model.init_weights()
    if state is not None:
        model.load_state_dict(state)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return model
