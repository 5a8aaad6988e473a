"""dhkd_det.testing, which tests, benchmarks and demos share: the COCO set
it writes reads back with pycocotools and MMDetection's CocoDataset, the
small detectors switch between dual and plain heads, and a config's own
detector shrinks to the small one."""
import os.path as osp

import numpy as np
import pytest

pytest.importorskip('mmdet')
cv2 = pytest.importorskip('cv2')

from mmengine.config import Config  # noqa: E402

from dhkd_det.datasets import write_coco  # noqa: E402
from dhkd_det.testing import (CLASSES, set_heads,  # noqa: E402
                              shrink_detector, small_cascade_rcnn,
                              small_data_cfg, small_faster_rcnn,
                              small_retinanet, write_random_cifar,
                              write_tiny_coco)
from det_utils import REPO, mmdet_scope  # noqa: E402,F401


def test_write_coco_round_trips_through_pycocotools(tmp_path):
    from pycocotools.coco import COCO
    pixels = np.full((20, 30, 3), 7, np.uint8)
    ann_file = write_coco(str(tmp_path), 'val', [
        ('a.png', pixels, [dict(bbox=[1, 2, 3, 4], label=1, source=9)]),
        ('b.png', pixels, []),
    ], ('x', 'y'))
    coco = COCO(ann_file)
    assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == ['x', 'y']
    (ann, ) = coco.loadAnns(coco.getAnnIds())
    assert ann['image_id'] == 1 and ann['category_id'] == 2
    assert ann['bbox'] == [1, 2, 3, 4] and ann['area'] == 12.0
    assert ann['source'] == 9  # extra keys kept
    assert coco.loadImgs(2)[0] == dict(id=2, file_name='b.png', width=30,
                                       height=20)
    assert (cv2.imread(str(tmp_path / 'images' / 'a.png')) == 7).all()
    with pytest.raises(OSError, match='image extension'):
        write_coco(str(tmp_path), 'bad', [('c', pixels, [])], ('x', ))


def test_tiny_coco_trains_through_the_data_config(tmp_path):
    from mmdet.datasets import CocoDataset
    data = str(tmp_path / 'data')
    write_tiny_coco(data, 'train', num_images=3, empty=(1, ))
    write_tiny_coco(data, 'val', num_images=2, seed=1)
    cfg = Config.fromstring(small_data_cfg(data), '.py')
    assert cfg.val_evaluator.ann_file == osp.join(data, 'annotations',
                                                  'val.json')
    train = CocoDataset(**cfg.train_dataloader.dataset)
    assert len(train) == 3  # the empty image kept
    assert train.metainfo['classes'] == CLASSES
    sample = train[0]
    assert sample['inputs'].shape[1:] == (128, 171)  # (192, 128), kept ratio
    assert len(CocoDataset(**cfg.val_dataloader.dataset)) == 2


def _types(model):
    heads = model.roi_head.bbox_head if 'roi_head' in model else \
        model.bbox_head
    heads = heads if isinstance(heads, list) else [heads]
    return ([model.roi_head.type] if 'roi_head' in model else []) + [
        h.type for h in heads]


def test_set_heads_switches_dual_and_plain():
    for make, dual_types in (
            (small_faster_rcnn,
             ['DualStandardRoIHead', 'DualShared2FCBBoxHead']),
            (small_cascade_rcnn,
             ['DualCascadeRoIHead'] + ['DualShared2FCBBoxHead'] * 3),
            (small_retinanet, ['DualRetinaHead'])):
        dual = make()
        assert _types(dual) == dual_types
        plain = set_heads(make(), dual=False)
        assert _types(plain) == [t[len('Dual'):] for t in dual_types]
        assert _types(make(dual=False)) == _types(plain)
        assert _types(set_heads(plain, dual=True)) == dual_types


def test_a_config_student_shrinks_to_the_small_detector():
    from mmdet.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'dhkd',
                                   'coco_faster_rcnn_r101_r50.py'))
    student = shrink_detector(cfg.model.student, 'faster_rcnn', dual=True)
    assert student.roi_head.bbox_head.aux_head == 'linear'  # kept
    teacher = shrink_detector(cfg.model.student, 'faster_rcnn', dual=False)
    assert 'aux_head' not in teacher.roi_head.bbox_head
    small = small_faster_rcnn()
    for key in ('backbone', 'neck', 'rpn_head', 'train_cfg', 'test_cfg'):
        assert student[key] == small[key], key
    built = MODELS.build(teacher)
    assert built.backbone.depth == 18 and not hasattr(
        built.roi_head.bbox_head, 'fc_cls_aux')
    with pytest.raises(ValueError, match="'faster_rcnn' or 'retinanet'"):
        shrink_detector(cfg.model.student, 'yolo', dual=True)


def test_random_cifar_has_every_class(tmp_path):
    from dhkd_det.datasets import CIFAR100
    train, test, names = write_random_cifar(str(tmp_path), num_classes=5,
                                            n_train=12, n_test=5)
    assert sorted(set(train[1].tolist())) == list(range(5))
    assert sorted(test[1].tolist()) == list(range(5))
    data = CIFAR100(str(tmp_path), 'test', check_md5=False)
    assert len(data) == 5
