"""A bad COCO annotation file or image folder, fed to the real
tools/train.py and tools/test.py with our Faster R-CNN DHKD config, stops
before MMDetection builds the data sets, with an error naming the file
(MMDetection's own are JSONDecodeError without the file, KeyError:
'categories', a TypeError on a string coordinate, or a failure mid-epoch
for a missing image)."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

pytest.importorskip('mmdet')
pytest.importorskip('mmcv.ops')

from det_utils import (REPO, SMALL_FASTER_RCNN, small_data_cfg,  # noqa: E402
                       write_config, write_tiny_coco)

pytestmark = pytest.mark.slow  # each test runs a tool in a subprocess

DHKD_CFG = osp.join(REPO, 'configs', 'dhkd', 'coco_faster_rcnn_r101_r50.py')


def setup_project(root):
    data = osp.join(root, 'data')
    train_json = write_tiny_coco(data, 'train', num_images=4, seed=0)
    write_tiny_coco(data, 'val', num_images=2, seed=1)
    teacher_cfg = write_config(
        osp.join(root, 'teacher.py'),
        "_base_ = 'mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py'\n"
        f'model = {SMALL_FASTER_RCNN!r}\n')
    # never read: every run here stops before the teacher loads (the
    # pre-flight only asks that it exists)
    teacher_ckpt = osp.join(root, 'unused.pth')
    open(teacher_ckpt, 'wb').close()
    cfg = write_config(
        osp.join(root, 'distill.py'),
        f'_base_ = {DHKD_CFG!r}\n'
        f'model = dict(student={SMALL_FASTER_RCNN!r}, '
        f'teacher={teacher_cfg!r}, teacher_ckpt={teacher_ckpt!r})\n' +
        small_data_cfg(data))
    return data, train_json, cfg


def run(tool, *args, cwd):
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', tool),
                           *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode != 0
    for cryptic in ('JSONDecodeError', "KeyError: 'categories'",
                    'TypeError'):
        assert cryptic not in proc.stderr, proc.stderr[-3000:]
    return proc.stderr


def rewrite(path, change):
    with open(path) as f:
        data = json.load(f)
    change(data)
    with open(path, 'w') as f:
        json.dump(data, f)


def no_categories(data):
    del data['categories']


def string_box(data):
    data['annotations'][1].update(image_id=1, bbox=['10', '12', '30', '20'])


def shared_image_id(data):
    # MMDetection kept one image and gave it the boxes of both
    data['images'][1]['id'] = data['images'][0]['id']


def undefined_category(data):
    # MMDetection dropped the annotation
    data['annotations'][1]['category_id'] = 7


@pytest.mark.parametrize('bad, message', [
    ('not_json', "annotation file '{ann}' is not valid JSON"),
    (no_categories, "annotation file '{ann}' has no ['categories']: not a "
                    'COCO detection file'),
    (string_box, "annotation file '{ann}': annotation id 2 (image 1) has "
                 "bbox ['10', '12', '30', '20']; COCO boxes are four "
                 'numbers'),
    (shared_image_id, "annotation file '{ann}': 1 image id(s) are used by "
                      "more than one image (id 1: 'train_0.jpg', "
                      "'train_1.jpg')"),
    (undefined_category, "annotation file '{ann}': 1 annotation(s) have a "
                         'category_id that is not in its categories '
                         '(annotation ids 2; category_id 7; the categories '
                         'are 1, 2, 3)'),
])
def test_bad_annotation_file_is_named_before_the_build(tmp_path, bad,
                                                       message):
    data, ann, cfg = setup_project(str(tmp_path))
    if bad == 'not_json':
        with open(ann, 'w') as f:
            f.write('{"images": [{"id": 1, "file_na')
    else:
        rewrite(ann, bad)
    err = run('train.py', cfg, '--work-dir', str(tmp_path / 'wd'),
              cwd=str(tmp_path))
    # MMDetection joins data_root and ann_file as given
    assert message.format(ann=osp.join(data + '/', 'annotations/train.json')) \
        in err, err[-3000:]
    assert not (tmp_path / 'wd').exists() or \
        not list((tmp_path / 'wd').glob('*.pth'))


def test_training_set_without_annotations(tmp_path):
    # MMEngine failed with "need at least one array to concatenate"
    data, ann, cfg = setup_project(str(tmp_path))
    rewrite(ann, lambda data: data.update(annotations=[]))
    err = run('train.py', cfg, '--work-dir', str(tmp_path / 'wd'),
              '--cfg-options',
              'train_dataloader.dataset.filter_cfg.filter_empty_gt=True',
              cwd=str(tmp_path))
    assert 'has no annotations, and train_dataloader.dataset.filter_cfg.' \
        'filter_empty_gt=True drops every image without one, so ' \
        'train_dataloader.dataset would be empty' in err, err[-3000:]
    assert 'need at least one array' not in err


def test_missing_and_unreadable_images_before_training(tmp_path):
    data, ann, cfg = setup_project(str(tmp_path))
    os.remove(osp.join(data, 'images', 'train_1.jpg'))
    os.remove(osp.join(data, 'images', 'train_3.jpg'))
    err = run('train.py', cfg, '--work-dir', str(tmp_path / 'wd'),
              cwd=str(tmp_path))
    assert 'of the 4 images' in err and \
        "2 are missing (e.g. ['train_1.jpg', 'train_3.jpg'])" in err, \
        err[-3000:]
    assert 'train_dataloader.dataset.data_root / data_prefix.img' in err


def test_unreadable_test_image_before_testing(tmp_path):
    data, ann, cfg = setup_project(str(tmp_path))
    with open(osp.join(data, 'images', 'val_0.jpg'), 'w') as f:
        f.write('')
    ckpt = tmp_path / 'any.pth'
    ckpt.write_bytes(b'')
    err = run('test.py', cfg, str(ckpt), '--work-dir', str(tmp_path / 'wd'),
              cwd=str(tmp_path))
    assert "1 cannot be read (e.g. ['val_0.jpg: unreadable (empty file)'])" \
        in err, err[-3000:]
    assert 'test_dataloader.dataset.data_root' in err


def test_wrong_class_count_is_named_before_training(tmp_path):
    """A student and teacher predicting 2 classes on 3-class data stop
    before the first iteration (MMDetection fails inside the loss)."""
    data, ann, cfg = setup_project(str(tmp_path))
    teacher_cfg = write_config(
        str(tmp_path / 'teacher_2.py'),
        f"_base_ = {str(tmp_path / 'teacher.py')!r}\n"
        'model = dict(roi_head=dict(bbox_head=dict(num_classes=2)))\n')
    with open(cfg, 'a') as f:
        f.write("model['student']['roi_head']['bbox_head']"
                f"['num_classes'] = 2\nmodel['teacher'] = {teacher_cfg!r}\n")
    err = run('train.py', cfg, '--work-dir', str(tmp_path / 'wd'),
              cwd=str(tmp_path))
    assert 'has 3 classes but the box head predicts 2' in err, err[-3000:]
    assert 'num_classes=3 in the box head of model.student' in err
    assert not list((tmp_path / 'wd').glob('*.pth'))
