"""The digit scenes of the detection study (``digit_scenes_as_coco``):
deterministic files, a valid COCO layout, held-out handwriting in val,
distractors drawn but never annotated, overlaps bounded."""
import json
import os.path as osp
from itertools import combinations

import numpy as np
import pytest

cv2 = pytest.importorskip('cv2')
pytest.importorskip('sklearn')

from dhkd_det.datasets import digit_split, digit_scenes_as_coco  # noqa: E402
from dhkd_det.datasets.digit_scenes import (  # noqa: E402
    BACKGROUND_MAX, overlap_fraction)

CANVAS = 96
SIZES = (8, 36)


def write(root, **kwargs):
    args = dict(num_train=10, num_val=6, canvas=CANVAS, digit_sizes=SIZES)
    return digit_scenes_as_coco(str(root), **dict(args, **kwargs))


def coco(root, split):
    with open(osp.join(root, 'annotations', f'{split}.json')) as f:
        return json.load(f)


def by_image(data):
    """``[(image entry, its annotations), ...]``"""
    return [(image, [a for a in data['annotations']
                     if a['image_id'] == image['id']])
            for image in data['images']]


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp('scenes')
    return root, write(root)


def test_the_same_arguments_write_byte_identical_files(scenes, tmp_path):
    root, _ = scenes
    write(tmp_path / 'again')
    write(tmp_path / 'seed1', seed=1)
    write(tmp_path / 'fewer', num_train=4)
    for split in ('train', 'val'):
        name = osp.join('annotations', f'{split}.json')
        with open(root / name, 'rb') as f, \
                open(tmp_path / 'again' / name, 'rb') as g:
            assert f.read() == g.read(), name
        for image in coco(root, split)['images']:
            name = osp.join('images', image['file_name'])
            with open(root / name, 'rb') as f, \
                    open(tmp_path / 'again' / name, 'rb') as g:
                assert f.read() == g.read(), name
        assert coco(root, split) != coco(tmp_path / 'seed1', split)
    # the val set does not move when the training set grows or shrinks
    assert coco(tmp_path / 'fewer', 'val') == coco(root, 'val')
    assert len(coco(tmp_path / 'fewer', 'train')['images']) == 4


def test_a_valid_coco_set_of_4_to_10_digits_a_scene(scenes):
    from pycocotools.coco import COCO
    from sklearn.datasets import load_digits
    root, summary = scenes
    target = load_digits().target
    for split in ('train', 'val'):
        api = COCO(str(root / 'annotations' / f'{split}.json'))
        assert len(api.getImgIds()) == summary[split]['images']
        assert len(api.getAnnIds()) == summary[split]['boxes']
        assert [c['name'] for c in api.loadCats(api.getCatIds())] == [
            str(d) for d in range(10)]
        for image, anns in by_image(coco(root, split)):
            img = cv2.imread(str(root / 'images' / image['file_name']))
            assert img.shape == (image['height'], image['width'], 3) == \
                (CANVAS, CANVAS, 3)
            assert 4 <= len(anns) <= 10
            for ann in anns:
                x, y, w, h = ann['bbox']
                assert x >= 0 and y >= 0 and w > 0 and h > 0
                assert x + w <= CANVAS and y + h <= CANVAS
                assert h <= SIZES[1] and ann['area'] == w * h
                assert ann['category_id'] == target[ann['digit_index']] + 1
                # ink inside the box, brighter than any background
                assert img[y:y + h, x:x + w].max() > BACKGROUND_MAX, ann


def test_scales_span_the_digit_sizes(scenes):
    root, _ = scenes
    heights = [a['bbox'][3] for a in coco(root, 'train')['annotations']]
    # ink boxes are at most the drawn height, and the heights are drawn
    # log-uniformly over SIZES
    assert min(heights) < 14 and max(heights) > 28


def test_val_digits_are_held_out_handwriting(scenes):
    root, _ = scenes
    pools = dict(zip(('train', 'val'),
                     (set(i.tolist()) for i in digit_split(0))))
    drawn = {split: {a['digit_index'] for a in coco(root, split)[
        'annotations']} for split in pools}
    for split, indices in drawn.items():
        assert indices and indices <= pools[split], split
    assert not drawn['train'] & drawn['val']


def test_overlaps_happen_and_stay_bounded(scenes, tmp_path):
    root, _ = scenes
    fractions = [overlap_fraction(a['bbox'], b['bbox'])
                 for split in ('train', 'val')
                 for _, anns in by_image(coco(root, split))
                 for a, b in combinations(anns, 2)]
    assert max(fractions) <= 0.3 and max(fractions) > 0
    write(tmp_path, max_overlap=0.0, num_val=0)
    assert not any(overlap_fraction(a['bbox'], b['bbox'])
                   for _, anns in by_image(coco(tmp_path, 'train'))
                   for a, b in combinations(anns, 2))


def ink_outside_boxes(root, split):
    """Per image, whether any pixel outside every annotated box is brighter
    than the background can be: ink that no annotation covers."""
    found = []
    for image, anns in by_image(coco(root, split)):
        img = cv2.imread(str(root / 'images' / image['file_name']))
        outside = np.ones(img.shape[:2], bool)
        for ann in anns:
            x, y, w, h = ann['bbox']
            outside[y:y + h, x:x + w] = False
        found.append(bool((img[outside] > BACKGROUND_MAX).any()))
    return found


def test_distractors_are_drawn_but_never_annotated(scenes, tmp_path):
    """Without distractors every bright pixel lies in an annotated box; with
    them most scenes have ink outside every box, and the annotations are
    the digits alone."""
    root, summary = scenes
    assert summary['train']['distractors'] > 0
    assert sum(ink_outside_boxes(root, 'train')) >= 0.7 * summary[
        'train']['images']
    bare = write(tmp_path, distractors=(0, 0))
    assert bare['train']['distractors'] == 0
    assert not any(ink_outside_boxes(tmp_path, 'train'))
    # the same digits in the same places, distractors or not
    strip = [(a['image_id'], a['bbox'], a['digit_index'])
             for a in coco(tmp_path, 'train')['annotations']]
    assert strip == [(a['image_id'], a['bbox'], a['digit_index'])
                     for a in coco(root, 'train')['annotations']]


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match='digit_sizes'):
        write(tmp_path, digit_sizes=(10, 60))
    with pytest.raises(ValueError, match='max_overlap'):
        write(tmp_path, max_overlap=1.0)
    with pytest.raises(RuntimeError, match='no free spot'):
        write(tmp_path, digits=(30, 30), digit_sizes=(30, 40),
              max_overlap=0.0)
