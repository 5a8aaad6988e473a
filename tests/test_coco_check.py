"""The COCO annotation audit DHKDHook runs before training."""
import json

import pytest

from dhkd_det.engine.coco_audit import audit_coco_boxes, describe_skipped


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
    text = describe_skipped(f, skipped)
    assert '2 boxes' in text and 'a.json' in text and 'id 2' in text
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
