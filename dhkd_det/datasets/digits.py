"""scikit-learn's handwritten digits (1,797 8x8 grey images, 10 classes,
shipped inside the package: nothing is downloaded) written in the on-disk
formats our configs read, for the offline demos and quick experiments:
CIFAR's pickles for classification, COCO JSON + image files for detection."""
from typing import Dict, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .cifar import write_cifar
from .coco import write_coco


def _sklearn_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError(
            'the digits data ship with scikit-learn, which is not installed: '
            "pip install scikit-learn (or pip install -e '.[demo]')") from err
    return load_digits()


def digit_split(seed: int = 0, test_size=0.25) -> Tuple[np.ndarray,
                                                        np.ndarray]:
    """Indices into scikit-learn's ``load_digits()`` arrays of the training
    and the held-out digits, split stratified by ``seed``; the split
    ``load_digits_images`` returns, so that a data set built from it can
    name the digits it drew (``digit_index`` in ``digits_as_coco``)."""
    from sklearn.model_selection import train_test_split
    target = _sklearn_digits().target
    return tuple(train_test_split(np.arange(len(target)),
                                  test_size=test_size, random_state=seed,
                                  stratify=target))


def load_digits_images(size: int = 32, seed: int = 0, test_size=0.25):
    """The digits upsampled to ``size`` x ``size`` RGB uint8 (N, H, W, 3),
    split stratified into (x_train, x_test, y_train, y_test) by ``seed``
    (the split of ``digit_split``)."""
    digits = _sklearn_digits()
    images = torch.from_numpy(digits.images).float()[:, None] / 16.0
    images = F.interpolate(images, size=(size, size), mode='bilinear',
                           align_corners=False)
    images = (images.clamp(0, 1) * 255).round().to(torch.uint8)
    images = images.expand(-1, 3, -1, -1).permute(0, 2, 3, 1).numpy()
    train, test = digit_split(seed, test_size)
    return (images[train], images[test], digits.target[train],
            digits.target[test])


def digits_as_cifar(root: str, max_train: int = 0, seed: int = 0) -> dict:
    """Writes the digits at 32x32 in CIFAR's pickle layout under ``root``
    (``cifar-100-python/``, read by our ``CIFAR100`` data set with 10
    classes); returns the split sizes."""
    x_tr, x_te, y_tr, y_te = load_digits_images(32, seed)
    if max_train:
        x_tr, y_tr = x_tr[:max_train], y_tr[:max_train]
    write_cifar(root, train=(np.ascontiguousarray(x_tr), y_tr.tolist()),
                test=(np.ascontiguousarray(x_te), y_te.tolist()),
                class_names=[str(i) for i in range(10)])
    return dict(train=len(y_tr), test=len(y_te))


#: alpha below which a resized digit's pixel counts as background: the
#: bilinear tails are cut there, so the box is exactly the drawn ink
_INK_ALPHA = 0.2


def digits_as_coco(root: str, num_train: int = 400, num_val: int = 100,
                   canvas: int = 128, seed: int = 0,
                   digit_sizes: Tuple[int, int] = (18, 44),
                   max_digits: int = 4) -> Dict[str, dict]:
    """Writes a small COCO-format detection set of the digits under
    ``root``: ``images/<split>_<i>.png`` and ``annotations/<split>.json``
    for the splits 'train' and 'val'; returns, per split, its image and box
    counts and annotation file.

    Each ``canvas`` x ``canvas`` image is a plain or noisy dark background
    with 1 to ``max_digits`` digits pasted in random bright colours, each
    resized to a height in ``digit_sizes`` (its width 0.8-1.1 times that),
    placed at random without overlapping another.  The box of a digit is the
    tight box of its ink, so it is exactly where the digit was drawn.

    The training canvases draw their digits from the training split of
    ``digit_split(seed)``, the val canvases from its held-out split: a val
    digit is a handwriting the detector never saw, not a seen one on a new
    canvas.  Every annotation keeps the index of its digit in scikit-learn's
    ``load_digits()`` as ``digit_index`` (COCO readers ignore extra keys).
    PNG, not JPEG, so the pixels are exactly those drawn.  The same
    arguments write the same files; the val set does not depend on
    ``num_train``.
    """
    import cv2  # ships with mmcv; the classification path does not need it
    lo, hi = digit_sizes
    if not 4 <= lo <= hi <= canvas:
        raise ValueError(f'digit_sizes must satisfy 4 <= min <= max <= '
                         f'canvas ({canvas}), got {digit_sizes}')
    if max_digits < 1:
        raise ValueError(f'max_digits must be >= 1, got {max_digits}')
    # the largest size once, then each digit is resized down to its own
    x_tr, x_te, y_tr, y_te = load_digits_images(hi, seed)
    idx_tr, idx_te = digit_split(seed)
    summary = {}
    for split_id, (split, count, pool, labels, index) in enumerate(
            (('train', num_train, x_tr, y_tr, idx_tr),
             ('val', num_val, x_te, y_te, idx_te))):
        rng = np.random.default_rng([seed, split_id])
        canvases = [_digit_canvas(rng, cv2, pool[..., 0], canvas, (lo, hi),
                                  max_digits) for _ in range(count)]
        ann_file = write_coco(
            root, split,
            [(f'{split}_{i:04d}.png', img[..., ::-1],  # RGB -> BGR
              [dict(bbox=list(box), label=int(labels[k]),
                    digit_index=int(index[k])) for box, k in drawn])
             for i, (img, drawn) in enumerate(canvases)],
            [str(d) for d in range(10)])
        summary[split] = dict(
            images=count, boxes=sum(len(drawn) for _, drawn in canvases),
            ann_file=ann_file)
    return summary


def _digit_canvas(rng: np.random.Generator, cv2, pool: np.ndarray,
                  canvas: int, sizes: Tuple[int, int], max_digits: int
                  ) -> Tuple[np.ndarray, List[tuple]]:
    """One RGB canvas and its ``[((x, y, w, h), pool index), ...]``."""
    level = rng.integers(10, 80)
    noise = int(rng.integers(0, 25))  # 0: a plain background
    img = np.clip(level + rng.integers(-noise, noise + 1, (canvas, canvas, 3)),
                  0, 255).astype(np.float32)
    boxes = []
    for _ in range(int(rng.integers(1, max_digits + 1))):
        k = int(rng.integers(len(pool)))
        h = int(rng.integers(sizes[0], sizes[1] + 1))
        w = max(4, min(canvas, round(h * rng.uniform(0.8, 1.1))))
        alpha = cv2.resize(pool[k], (w, h),
                           interpolation=cv2.INTER_AREA).astype(
                               np.float32) / 255
        alpha[alpha < _INK_ALPHA] = 0
        rows, cols = np.nonzero(alpha.any(1))[0], np.nonzero(alpha.any(0))[0]
        if not len(rows):  # a digit without ink at this size: none drawn
            continue
        # the ink box inside the resized digit
        ix, iy = int(cols[0]), int(rows[0])
        iw, ih = int(cols[-1]) + 1 - ix, int(rows[-1]) + 1 - iy
        for _ in range(20):  # a free spot, else the digit is left out
            x = int(rng.integers(0, canvas - w + 1))
            y = int(rng.integers(0, canvas - h + 1))
            box = (x + ix, y + iy, iw, ih)
            if not any(_overlap(box, other, margin=2) for other, _ in boxes):
                break
        else:
            continue
        colour = rng.integers(150, 256, 3).astype(np.float32)
        patch = img[y:y + h, x:x + w]
        a = alpha[..., None]
        img[y:y + h, x:x + w] = patch * (1 - a) + colour * a
        boxes.append((box, k))
    return np.round(img).astype(np.uint8), boxes


def _overlap(a: tuple, b: tuple, margin: int = 0) -> bool:
    """Whether boxes ``(x, y, w, h)`` come within ``margin`` pixels."""
    return (a[0] < b[0] + b[2] + margin and b[0] < a[0] + a[2] + margin
            and a[1] < b[1] + b[3] + margin and b[1] < a[1] + a[3] + margin)
