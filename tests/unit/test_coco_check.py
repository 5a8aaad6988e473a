"""The COCO annotation audit the tools run before the data sets are built
(opt-in by CocoAuditHook): malformed files stop the run, every annotation
MMDetection drops is counted and named (of every split, not the training
file only), and class names in another order than the file's categories
are refused."""
import json

import pytest

from mmengine.config import Config

import dhkd_det.checks.coco as coco
from dhkd_det.checks.coco import (audit_coco_boxes, audit_coco_datasets,
                                  audit_images, check_not_empty,
                                  describe_dropped, dropped_annotations,
                                  is_coco_dataset, read_coco)


def write(path, annotations):
    path.write_text(json.dumps(dict(
        images=[dict(id=1, file_name='a.jpg', width=64, height=48)],
        annotations=annotations,
        categories=[dict(id=1, name='box')])))
    return str(path)


def ann(i, bbox, area=None):
    return dict(id=i, image_id=1, category_id=1, bbox=bbox, iscrowd=0,
                area=bbox[2] * bbox[3] if area is None else area)


def test_skipped_boxes_are_named(tmp_path):
    f = write(tmp_path / 'a.json', [ann(1, [2, 2, 10, 10]),
                                    ann(2, [30, 5, -12, 9]),
                                    ann(3, [1, 1, 0.5, 8])])
    skipped = audit_coco_boxes(f)
    assert [a['id'] for a in skipped] == [2, 3]
    text = describe_dropped(f, read_coco(f))
    assert '2 boxes with a width or height below 1 pixel' in text
    assert 'a.json' in text and 'id 2' in text
    assert '[x1, y1, x2, y2]' in text  # the negative width hint
    assert audit_coco_boxes(write(tmp_path / 'b.json',
                                  [ann(1, [2, 2, 10, 10])])) == []


def test_malformed_files_raise_naming_the_file(tmp_path):
    bad_box = write(tmp_path / 'box.json', [ann(1, [1, 2, 3, 4]),
                                            dict(id=7, image_id=1,
                                                 category_id=1, bbox=[1, 2])])
    with pytest.raises(ValueError, match=r'box.json.*annotation id 7'):
        audit_coco_boxes(bad_box)
    truncated = tmp_path / 'cut.json'
    truncated.write_text('{"images": [')
    with pytest.raises(ValueError, match='cut.json.*not valid JSON'):
        audit_coco_boxes(str(truncated))
    other = tmp_path / 'other.json'
    other.write_text('{"foo": 1}')
    with pytest.raises(ValueError, match='not a COCO detection file'):
        audit_coco_boxes(str(other))
    with pytest.raises(FileNotFoundError, match='nope.json'):
        audit_coco_boxes(str(tmp_path / 'nope.json'))


def test_an_image_id_used_twice_is_named(tmp_path):
    path = tmp_path / 'a.json'
    path.write_text(json.dumps(dict(
        images=[dict(id=i, file_name=f'{n:06d}.jpg')
                for n, i in enumerate([0, 0, 1, 2, 2, 2])],
        annotations=[], categories=[])))
    with pytest.raises(ValueError) as info:
        read_coco(str(path))
    assert f"annotation file '{path}': 2 image id(s) are used by more than " \
        "one image (id 0: '000000.jpg', '000001.jpg'; id 2: '000003.jpg', " \
        "'000004.jpg', '000005.jpg')" in str(info.value)
    assert 'Give every image its own id' in str(info.value)


def test_annotations_of_undefined_categories_are_named(tmp_path):
    anns = [ann(i, [2, 2, 10, 10]) for i in range(1, 9)]
    for a in anns[2:]:
        a['category_id'] = 9 if a['id'] % 2 else 'person'
    with pytest.raises(ValueError) as info:
        read_coco(write(tmp_path / 'a.json', anns))
    assert "6 annotation(s) have a category_id that is not in its " \
        "categories (annotation ids 3, 4, 5, 6, 7 and 1 more; category_id " \
        "9, 'person'; the categories are 1)" in str(info.value)
    assert 'Add the missing categories' in str(info.value)
    # categories defined but not trained (metainfo classes) are no error
    read_coco(write(tmp_path / 'b.json', anns[:2]))


@pytest.mark.parametrize('images, annotations, ds, words', [
    ([], [], {}, 'lists no images, so k would be empty'),
    ([dict(id=1)], [], dict(filter_cfg=dict(filter_empty_gt=True)),
     'has no annotations, and k.filter_cfg.filter_empty_gt=True drops every '
     'image without one, so k would be empty'),
    ([dict(id=1)], [], dict(filter_cfg=dict(filter_empty_gt=False)), None),
    ([dict(id=1)], [], dict(filter_cfg=dict(filter_empty_gt=True),
                            test_mode=True), None),
])
def test_a_data_set_that_would_be_empty(images, annotations, ds, words):
    data = dict(images=images, annotations=annotations, categories=[])
    if words is None:
        check_not_empty(data, ds, 'x.json', 'k')
    else:
        with pytest.raises(ValueError, match=words):
            check_not_empty(data, ds, 'x.json', 'k')


def test_missing_and_unreadable_images_are_counted(tmp_path):
    (tmp_path / 'img').mkdir()
    names = [f'{i}.jpg' for i in range(6)]
    (tmp_path / 'img' / '0.jpg').write_bytes(b'\xff\xd8\xff\xe0' + bytes(60))
    (tmp_path / 'img' / '1.jpg').write_bytes(b'\x89PNG\r\n\x1a\n' + bytes(8))
    (tmp_path / 'img' / '2.jpg').write_bytes(b'')
    (tmp_path / 'img' / '3.jpg').write_text('a text file, not an image')
    data = dict(images=[dict(id=i, file_name=n) for i, n in enumerate(names)],
                annotations=[], categories=[])
    with pytest.raises(FileNotFoundError) as info:
        audit_images(data, str(tmp_path / 'img'), 'train.json',
                     'train_dataloader.dataset')
    message = str(info.value)
    assert 'of the 6 images train.json lists, 2 are missing ' \
        "(e.g. ['4.jpg', '5.jpg']) and 2 cannot be read" in message
    assert '2.jpg: unreadable (empty file)' in message
    assert "3.jpg: unreadable (not an image: starts with b'a text f'" \
        in message
    assert 'train_dataloader.dataset.data_root / data_prefix.img' in message
    data['images'] = data['images'][:2]
    audit_images(data, str(tmp_path / 'img'), 'train.json', 'k')  # all good


def test_coco_datasets_are_recognised_by_class():
    class CocoDataset:  # stands in for mmdet.datasets.CocoDataset
        pass
    CocoDataset.__module__ = 'mmdet.datasets.coco'

    class MyCoco(CocoDataset):
        pass

    class CocoLike:
        pass
    assert is_coco_dataset(CocoDataset) and is_coco_dataset(MyCoco)
    assert not is_coco_dataset(CocoLike) and not is_coco_dataset(dict)


def test_the_pre_build_audit_is_opt_in(tmp_path):
    pytest.importorskip('mmdet')
    bad = tmp_path / 'bad.json'
    bad.write_text('{"images": [')
    loader = dict(dataset=dict(type='CocoDataset', ann_file=str(bad),
                               data_prefix=dict(img='')))
    cfg = dict(default_scope='mmdet', train_dataloader=loader)
    audit_coco_datasets(Config(cfg), ['train_dataloader'])  # not asked for
    cfg['custom_hooks'] = [dict(type='CocoAuditHook')]
    with pytest.raises(ValueError, match='bad.json'):
        audit_coco_datasets(Config(cfg), ['train_dataloader'])


JPEG = b'\xff\xd8\xff\xe0' + bytes(60)


def write_split(root, name, anns, categories=('red', 'green', 'blue')):
    """``root/<name>.json``: two 64 x 48 images (ids 1, 2, whose files
    exist under ``root``) and ``anns``."""
    for i in (1, 2):
        (root / f'{name}_{i}.jpg').write_bytes(JPEG)
    path = root / f'{name}.json'
    path.write_text(json.dumps(dict(
        images=[dict(id=i, file_name=f'{name}_{i}.jpg', width=64, height=48)
                for i in (1, 2)],
        annotations=anns,
        categories=[dict(id=i + 1, name=n) for i, n in enumerate(categories)
                    ])))
    return str(path)


def box(i, image_id, bbox, category_id=1, **extra):
    return dict(dict(id=i, image_id=image_id, category_id=category_id,
                     bbox=bbox, area=bbox[2] * bbox[3], iscrowd=0), **extra)


#: kept: 1, 2, 9 (crowd boxes are kept, as ignore regions); dropped:
#: 3, 4 orphans, 5 outside its image, 6 tiny, 7 marked ignore,
#: 8 of a category metainfo does not train (blue)
RECORDS = [box(1, 1, [2, 2, 10, 10]), box(2, 2, [5, 5, 20, 20], 2),
           box(3, 99, [2, 2, 10, 10]), box(4, 7, [1, 1, 4, 4]),
           box(5, 1, [100, 60, 10, 10]), box(6, 2, [3, 3, 0.5, 8]),
           box(7, 2, [3, 3, 8, 8], ignore=True),
           box(8, 1, [3, 3, 8, 8], 3), box(9, 1, [0, 0, 6, 6], iscrowd=1)]


@pytest.fixture
def logged(monkeypatch):
    messages = []
    monkeypatch.setattr(coco, 'print_log',
                        lambda msg, *args, **kwargs: messages.append(msg),
                        raising=False)
    return messages


def coco_cfg(root, classes=None, **splits):
    def loader(ann_file):
        ds = dict(type='CocoDataset', ann_file=ann_file,
                  data_prefix=dict(img=str(root)))
        if classes:
            ds['metainfo'] = dict(classes=classes)
        return dict(dataset=ds)
    return Config(dict(default_scope='mmdet',
                       custom_hooks=[dict(type='CocoAuditHook')],
                       **{f'{k}_dataloader': loader(v)
                          for k, v in splits.items()}))


def test_every_dropped_annotation_is_counted_as_mmdetection_drops_it(
        tmp_path, logged):
    pytest.importorskip('mmdet')
    from mmdet.datasets import CocoDataset
    f = write_split(tmp_path, 'train', RECORDS)
    classes = ('red', 'green')
    audit_coco_datasets(coco_cfg(tmp_path, classes, train=f),
                        ['train_dataloader'])
    text = '\n'.join(logged)
    assert f'of the 9 annotations in {f}, 4 are skipped' in text, logged
    assert "2 annotations whose image_id is not an image's id (ids 3, 4; " \
        'image_id 99, 7)' in text
    assert '1 box wholly outside its image (id 5 (image 1)' in text
    assert '1 box with a width or height below 1 pixel or zero area ' \
        '(id 6 (image 2)' in text
    assert '1 marked ignore' in text
    assert '1 of a category not in metainfo.classes' in text
    assert '3 are kept' in text
    dropped = dropped_annotations(read_coco(f), classes)
    assert {k: [a['id'] for a in v] for k, v in dropped.items()} == dict(
        orphan=[3, 4], ignored=[7], small=[6], outside=[5], untrained=[8])
    # the counts are what MMDetection's CocoDataset keeps
    ds = CocoDataset(ann_file=f, metainfo=dict(classes=classes),
                     data_prefix=dict(img=str(tmp_path)), pipeline=[],
                     filter_cfg=None)
    kept = sum(len(ds.get_data_info(i)['instances']) for i in range(len(ds)))
    assert kept == len(RECORDS) - sum(map(len, dropped.values())) == 3


def test_every_splits_file_is_audited(tmp_path, logged):
    pytest.importorskip('mmdet')
    files = {split: write_split(tmp_path, split, [
        box(1, 1, [2, 2, 10, 10]), box(2, 2, [70, 50, 5, 5])])
        for split in ('train', 'val', 'test')}
    cfg = coco_cfg(tmp_path, **files)
    audit_coco_datasets(cfg, ['train_dataloader', 'val_dataloader'])
    text = '\n'.join(logged)
    assert files['train'] in text and files['val'] in text, logged
    assert files['test'] not in text
    logged.clear()
    audit_coco_datasets(cfg, ['test_dataloader'])
    assert any(files['test'] in m and 'wholly outside' in m
               for m in logged), logged


@pytest.mark.parametrize('classes, error', [
    (('green', 'red', 'blue'), True),
    (('blue', 'red'), True),   # a subset, in another order
    (('red', 'blue'), False),  # a subset in the file's order
    (None, False),             # CocoDataset's own 80 classes: not these
])
def test_class_names_in_another_order_than_the_file_are_refused(
        tmp_path, classes, error):
    pytest.importorskip('mmdet')
    f = write_split(tmp_path, 'train', [box(1, 1, [2, 2, 10, 10])])
    cfg = coco_cfg(tmp_path, classes, train=f)
    if not error:
        audit_coco_datasets(cfg, ['train_dataloader'])
        return
    with pytest.raises(ValueError) as info:
        audit_coco_datasets(cfg, ['train_dataloader'])
    message = str(info.value)
    in_file = tuple(n for n in ('red', 'green', 'blue') if n in classes)
    assert f'train_dataloader.dataset.metainfo.classes {classes}' in message
    assert f"{f}'s categories are in the order {in_file}" in message
    assert f'metainfo=dict(classes={in_file})' in message


def test_max_dropped_turns_silent_drops_into_a_stop(tmp_path):
    """CocoAuditHook(max_dropped=share): more annotations dropped without a
    message than that share stops the run, naming them; at or below it, or
    without the argument, the run only warns."""
    pytest.importorskip('mmdet')
    f = write(tmp_path / 'a.json', [ann(1, [2, 2, 10, 10]),
                                    ann(2, [30, 5, -12, 9]),
                                    ann(3, [2, 2, 10, 10]),
                                    ann(4, [2, 2, 10, 10])])
    (tmp_path / 'a.jpg').write_bytes(JPEG)
    loader = dict(dataset=dict(type='CocoDataset', ann_file=f,
                               data_prefix=dict(img=str(tmp_path))))

    def audit(**hook):
        coco._named.clear()
        cfg = dict(default_scope='mmdet', train_dataloader=loader,
                   custom_hooks=[dict(type='CocoAuditHook', **hook)])
        audit_coco_datasets(Config(cfg), ['train_dataloader'])

    for allowed in (dict(), dict(max_dropped=0.25), dict(max_dropped=1)):
        audit(**allowed)  # 1 of 4 dropped: a warning, no stop
    with pytest.raises(ValueError, match=r'(?s)a\.json.*id 2.*25\.0% of the '
                       r'file.*max_dropped=0\.1'):
        audit(max_dropped=0.1)
    with pytest.raises(ValueError, match=r'max_dropped=0\b'):
        audit(max_dropped=0)
    for wrong in (-0.1, 2, 'all', True):
        with pytest.raises(ValueError, match='from 0 .none. to 1'):
            coco.check_max_dropped(wrong)
    from dhkd_det.engine.hooks import CocoAuditHook
    with pytest.raises(ValueError, match='from 0 .none. to 1'):
        CocoAuditHook(max_dropped=1.5)
