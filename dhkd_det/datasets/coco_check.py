"""A look at a COCO annotation file before training: MMDetection's
CocoDataset silently drops boxes it cannot use and crashes with an obscure
error on malformed ones; we name the file and the boxes instead."""
import json
import math
from typing import List


def audit_coco_boxes(ann_file: str) -> List[dict]:
    """The annotations whose box MMDetection will skip (width or height
    below 1 pixel, or zero area; a negative width included).

    Raises a ValueError naming the file for a file that is not COCO JSON or
    a box that is not four finite numbers, and FileNotFoundError for a
    missing file.
    """
    try:
        with open(ann_file) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(
            f'annotation file {ann_file!r} not found: set the dataset\'s '
            'data_root / ann_file in the config') from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f'annotation file {ann_file!r} is not valid JSON '
                         f'({err}); is the file complete?') from None
    missing = [k for k in ('images', 'annotations', 'categories')
               if not isinstance(data, dict) or k not in data]
    if missing:
        raise ValueError(f'annotation file {ann_file!r} has no {missing}: '
                         'not a COCO detection file')
    skipped = []
    for ann in data['annotations']:
        box = ann.get('bbox')
        if not (isinstance(box, list) and len(box) == 4 and all(
                isinstance(v, (int, float)) and math.isfinite(v)
                for v in box)):
            raise ValueError(
                f'annotation file {ann_file!r}: annotation id '
                f'{ann.get("id")} (image {ann.get("image_id")}) has bbox '
                f'{box!r}; COCO boxes are four numbers [x, y, width, height]')
        if box[2] < 1 or box[3] < 1 or ann.get('area', 1) <= 0:
            skipped.append(ann)
    return skipped


def describe_skipped(ann_file: str, skipped: List[dict]) -> str:
    examples = ', '.join(f'id {a.get("id")} (image {a.get("image_id")}): '
                         f'{a["bbox"]}' for a in skipped[:3])
    negative = sum(a['bbox'][2] < 0 or a['bbox'][3] < 0 for a in skipped)
    hint = (' Negative sizes usually mean [x1, y1, x2, y2] was written where '
            'COCO wants [x, y, width, height].' if negative else '')
    return (f'{len(skipped)} boxes in {ann_file} have a width or height '
            f'below 1 pixel or zero area and are skipped by MMDetection, '
            f'e.g. {examples}.{hint}')
