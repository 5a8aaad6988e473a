"""Writing a detection set in COCO's on-disk format, the one MMDetection's
``CocoDataset`` and ``CocoMetric`` read: image files under ``images/`` and
one annotation JSON per split under ``annotations/``.  Every generated COCO
set of the package (the digits demo's, the tests', the GPU check's) is
written here, so they all share one layout."""
import json
import os
import os.path as osp
from typing import Iterable, List, Sequence, Tuple

import numpy as np

#: one image: its file name, its pixels ((H, W, 3) uint8, BGR as OpenCV
#: writes them) and its boxes, each ``dict(bbox=[x, y, w, h],
#: label=class index, **extra)`` (the extra keys go into the annotation
#: as given; COCO readers ignore keys they do not know)
CocoImage = Tuple[str, np.ndarray, List[dict]]


def write_coco(root: str, split: str, images: Iterable[CocoImage],
               classes: Sequence[str]) -> str:
    """Writes each image to ``root/images/<file name>`` (the name's
    extension picks the format: PNG keeps the pixels exact, JPEG is what
    COCO ships) and ``root/annotations/<split>.json``; returns the JSON's
    path.  Image ids count from 1 in the order given, category ids are the
    class indices + 1 (COCO's ids start at 1), ``area`` is ``w * h``."""
    import cv2  # ships with mmcv; the classification path does not need it
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    entries, anns = [], []
    for file_name, pixels, boxes in images:
        height, width = pixels.shape[:2]
        path = osp.join(root, 'images', file_name)
        try:
            written = cv2.imwrite(path, np.ascontiguousarray(pixels))
        except cv2.error as err:  # e.g. no writer for the extension
            raise OSError(f'OpenCV could not write {path}: give the file '
                          'name an image extension such as .png or .jpg '
                          f'({err})') from err
        if not written:
            raise OSError(f'OpenCV could not write {path}: is the folder '
                          'writable?')
        image_id = len(entries) + 1
        entries.append(dict(id=image_id, file_name=file_name, width=width,
                            height=height))
        for box in boxes:
            extra = {k: v for k, v in box.items()
                     if k not in ('bbox', 'label')}
            x, y, w, h = box['bbox']
            anns.append(dict(id=len(anns) + 1, image_id=image_id,
                             category_id=int(box['label']) + 1,
                             bbox=[x, y, w, h], area=float(w * h),
                             iscrowd=0, **extra))
    ann_file = osp.join(root, 'annotations', f'{split}.json')
    with open(ann_file, 'w') as f:
        json.dump(dict(images=entries, annotations=anns,
                       categories=[dict(id=i + 1, name=name)
                                   for i, name in enumerate(classes)]), f)
    return ann_file
