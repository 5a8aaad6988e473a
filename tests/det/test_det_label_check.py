"""Detection class counts checked before training / testing: more data
classes than the box head predicts, and class names the COCO file lacks
(which would shift every label), are errors naming the fix; fewer classes
than the head is said."""
from types import SimpleNamespace

import pytest

pytest.importorskip('mmdet')

from mmengine.config import Config  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402

import dhkd_det  # noqa: E402,F401
from det_utils import mmdet_scope  # noqa: E402,F401
from dhkd_det.testing import (CLASSES, small_faster_rcnn,  # noqa: E402
                              small_retinanet, write_tiny_coco)
from dhkd_det.checks.labels import (check_label_range,  # noqa: E402
                                         detector_class_count)


def fake_runner(root, model_cfg, classes=CLASSES):
    from mmdet.registry import DATASETS, MODELS
    dataset_cfg = dict(type='CocoDataset', data_root=str(root) + '/',
                       ann_file='annotations/train.json',
                       data_prefix=dict(img='images/'),
                       metainfo=dict(classes=classes), pipeline=[])
    dataset = DATASETS.build(dataset_cfg)
    return SimpleNamespace(
        model=MODELS.build(model_cfg),
        cfg=Config(dict(train_dataloader=dict(dataset=dataset_cfg))),
        train_dataloader=SimpleNamespace(dataset=dataset))


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    root = tmp_path_factory.mktemp('coco')
    write_tiny_coco(str(root), 'train', num_images=2)
    return root


def test_class_count_of_detectors():
    import torch.nn as nn
    from mmdet.registry import MODELS
    assert detector_class_count(nn.Linear(2, 2)) is None
    assert detector_class_count(MODELS.build(small_faster_rcnn())) == 3
    assert detector_class_count(MODELS.build(small_retinanet())) == 3


def test_more_data_classes_than_the_head_is_an_error(coco):
    runner = fake_runner(coco, small_faster_rcnn(
        roi_head=dict(bbox_head=dict(num_classes=2))))
    with pytest.raises(ValueError) as err:
        check_label_range(runner, ('train_dataloader', ))
    message = str(err.value)
    assert 'has 3 classes but the box head predicts 2' in message
    assert 'annotations/train.json' in message
    assert 'num_classes=3' in message


def test_names_missing_from_the_coco_file_are_an_error(coco):
    runner = fake_runner(coco, small_faster_rcnn(),
                         classes=('red', 'purple', 'blue'))
    with pytest.raises(ValueError, match='categories for only 2 of them'):
        check_label_range(runner, ('train_dataloader', ))


def test_fewer_data_classes_than_the_head_is_said(coco, capsys):
    MMLogger.get_instance('label_check_test')  # the 'current' logger
    runner = fake_runner(coco, small_retinanet(
        bbox_head=dict(num_classes=5)))
    check_label_range(runner, ('train_dataloader', ))  # no error
    out = capsys.readouterr()
    assert 'has 3 classes and the box head predicts 5' in out.out + out.err


def test_matching_classes_pass_quietly(coco, capsys):
    check_label_range(fake_runner(coco, small_faster_rcnn()),
                      ('train_dataloader', ))
    out = capsys.readouterr()
    assert 'box head' not in out.out + out.err
