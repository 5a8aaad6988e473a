"""A tiny COCO detection set of coloured rectangles on grey noise, written
in the real on-disk format (``dhkd_det.datasets.write_coco``)."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..datasets import write_coco

#: the classes of the tiny sets (and of the small detectors' heads)
CLASSES = ('red', 'green', 'blue')
#: BGR fill of each class; with more classes the colours repeat
_COLORS = ((0, 0, 220), (0, 200, 0), (230, 40, 0))


def write_tiny_coco(root: str, name: str = 'train', num_images: int = 4,
                    size: Tuple[int, int] = (160, 120), seed: int = 0,
                    empty: Sequence[int] = (),
                    extra_anns: Optional[Dict[int, List[list]]] = None,
                    classes: Sequence[str] = CLASSES) -> str:
    """Writes ``root/images/<name>_<i>.jpg`` (``size`` = width, height)
    with 1-3 filled rectangles each (colour = class) and
    ``root/annotations/<name>.json``; returns the JSON path.

    Args:
        empty: indices of images written without any box.
        extra_anns: ``{image index: [[x, y, w, h, class index], ...]}``
            appended to the annotations as given (e.g. invalid boxes).
        classes: the categories of the JSON, e.g. COCO's 80 so that a
            config's class list and label mapping apply unchanged; the
            boxes are drawn from all of them.
    """
    rng = np.random.default_rng(seed)
    w, h = size

    def images():
        for i in range(num_images):
            img = rng.integers(90, 140, (h, w, 3), dtype=np.uint8)
            boxes = []
            if i not in empty:
                for _ in range(int(rng.integers(1, 4))):
                    bw, bh = (int(rng.uniform(0.2, 0.5) * side)
                              for side in (w, h))
                    x, y = rng.integers(0, w - bw), rng.integers(0, h - bh)
                    cls = int(rng.integers(0, len(classes)))
                    img[y:y + bh, x:x + bw] = _COLORS[cls % len(_COLORS)]
                    boxes.append([int(x), int(y), bw, bh, cls])
            boxes += (extra_anns or {}).get(i, [])
            yield (f'{name}_{i}.jpg', img,
                   [dict(bbox=box[:4], label=box[4]) for box in boxes])

    return write_coco(root, name, images(), classes)
