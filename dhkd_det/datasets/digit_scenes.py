"""Crowded scenes of scikit-learn's digits as a COCO detection set: the
benchmark of the detection study (``dhkd_det/experiments/det_study.py``).

The demo's set (``digits_as_coco``: 1-4 digits apart from each other on a
plain background) is solved in a few epochs, so distillation methods cannot
be told apart on it.  Here each scene asks what COCO asks of a detector:
many objects (4-10) over a range of scales (small ones below the smallest
anchor of MMDetection's Faster R-CNN), objects partly hiding each other,
clutter that is ink but no object (strokes, arcs, pieces of digits cut so
that they are not a whole digit), and a background that is neither flat nor
clean.  The val scenes draw their digits from held-out handwriting, as the
demo's do.
"""
import math
from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from .coco import write_coco
from .digits import _INK_ALPHA, digit_split, load_digits_images

#: the brightest background a scene has: level (< 60) + gradient (<= 15) +
#: noise (<= 25); every digit and distractor is drawn brighter (>= 150)
BACKGROUND_MAX = 59 + 15 + 25
#: the kinds of distractors, drawn with equal chances
DISTRACTOR_KINDS = ('line', 'arc', 'fragment')
#: a fragment keeps at most this fraction of a digit's ink box along the
#: side it is cut across, so it is never a whole digit
FRAGMENT_MAX = 0.6
#: placements tried for a digit (each with a fresh size) before the scene
#: is declared too crowded for the arguments
_TRIES = 200

Box = Tuple[int, int, int, int]  # x, y, w, h


class Scene(NamedTuple):
    """One canvas: its RGB pixels, its digits as ``(ink box, pool index)``
    (the annotations) and its distractors as ``(kind, box)`` (drawn, never
    annotated)."""
    image: np.ndarray
    digits: List[Tuple[Box, int]]
    distractors: List[Tuple[str, Box]]


def digit_scenes_as_coco(root: str, num_train: int = 800, num_val: int = 200,
                         canvas: int = 128, seed: int = 0,
                         digits: Tuple[int, int] = (4, 10),
                         digit_sizes: Tuple[int, int] = (10, 48),
                         max_overlap: float = 0.3,
                         distractors: Tuple[int, int] = (2, 6)
                         ) -> Dict[str, dict]:
    """Writes the scenes under ``root`` (``images/<split>_<i>.png``,
    ``annotations/<split>.json`` for 'train' and 'val', through
    ``write_coco``); returns, per split, its image and box counts and
    annotation file.

    Each ``canvas`` x ``canvas`` scene has a dark background with a random
    gradient and noise, ``distractors[0]``-``distractors[1]`` distractors
    (``DISTRACTOR_KINDS``; pieces of digits never overlap a digit's box,
    strokes may cross them), then ``digits[0]``-``digits[1]`` digits in
    random bright colours, each of a height drawn log-uniformly from
    ``digit_sizes`` (as many small digits between 10 and 20 pixels as
    large ones between 24 and 48), its width 0.8-1.1 times that.  A digit
    may overlap another: the two boxes' intersection is at most
    ``max_overlap`` of the smaller box; the later digit is drawn over the
    earlier, whose box stays its whole ink box.  The box of a digit is the
    tight box of its ink.

    As in ``digits_as_coco``: train scenes draw their digits (and the
    pieces of digits) from the training split of ``digit_split(seed)``,
    val scenes from its held-out split; every annotation keeps
    ``digit_index``, its digit's index in scikit-learn's ``load_digits()``;
    the same arguments write byte-identical files, and the val set does not
    depend on ``num_train``.
    """
    import cv2  # ships with mmcv; the classification path does not need it
    lo, hi = digit_sizes
    if not 4 <= lo <= hi <= canvas // 2:
        raise ValueError(f'digit_sizes must satisfy 4 <= min <= max <= '
                         f'canvas / 2 ({canvas // 2}), got {digit_sizes}')
    for name, (low, high) in (('digits', digits),
                              ('distractors', distractors)):
        if not 0 <= low <= high:
            raise ValueError(f'{name} must be (min, max) with 0 <= min <= '
                             f'max, got {(low, high)}')
    if not 0 <= max_overlap < 1:
        raise ValueError(f'max_overlap must be in [0, 1), got {max_overlap}')
    # the largest size once, then each digit is resized down to its own
    x_tr, x_te, y_tr, y_te = load_digits_images(hi, seed)
    idx_tr, idx_te = digit_split(seed)
    summary = {}
    for split_id, (split, count, pool, labels, index) in enumerate(
            (('train', num_train, x_tr, y_tr, idx_tr),
             ('val', num_val, x_te, y_te, idx_te))):
        # two streams per scene: its digits do not depend on the scenes
        # before it nor on its distractors
        scenes = [
            draw_scene(np.random.default_rng([seed, split_id, i, 0]),
                       np.random.default_rng([seed, split_id, i, 1]), cv2,
                       pool[..., 0], canvas, digits, digit_sizes,
                       max_overlap, distractors) for i in range(count)
        ]
        ann_file = write_coco(
            root, split,
            [(f'{split}_{i:04d}.png', scene.image[..., ::-1],  # RGB -> BGR
              [dict(bbox=list(box), label=int(labels[k]),
                    digit_index=int(index[k])) for box, k in scene.digits])
             for i, scene in enumerate(scenes)],
            [str(d) for d in range(10)])
        summary[split] = dict(
            images=count, boxes=sum(len(s.digits) for s in scenes),
            distractors=sum(len(s.distractors) for s in scenes),
            ann_file=ann_file)
    return summary


def draw_scene(rng: np.random.Generator, clutter_rng: np.random.Generator,
               cv2, pool: np.ndarray, canvas: int, digits: Tuple[int, int],
               sizes: Tuple[int, int], max_overlap: float,
               distractors: Tuple[int, int]) -> Scene:
    """One scene of ``digit_scenes_as_coco`` from ``pool`` ((N, S, S)
    uint8 digit images, S >= the largest size); the digits draw from
    ``rng``, the background and distractors from ``clutter_rng``.  The
    digits are placed first, so that the pieces of digits can keep clear of
    their boxes, and drawn last, over the distractors."""
    placed: List[Tuple[Box, int, np.ndarray]] = []
    for _ in range(int(rng.integers(digits[0], digits[1] + 1))):
        placed.append(_place_digit(rng, cv2, pool, canvas, sizes,
                                   [box for box, _, _ in placed],
                                   max_overlap))
    colours = [_colour(rng) for _ in placed]
    img = _background(clutter_rng, canvas)
    drawn = []
    boxes = [box for box, _, _ in placed]
    for _ in range(int(clutter_rng.integers(distractors[0],
                                            distractors[1] + 1))):
        kind = DISTRACTOR_KINDS[int(clutter_rng.integers(
            len(DISTRACTOR_KINDS)))]
        if kind == 'fragment':
            box = _draw_fragment(clutter_rng, cv2, pool, img, sizes, boxes)
        else:
            box = _draw_stroke(clutter_rng, cv2, img, kind)
        if box is not None:
            drawn.append((kind, box))
    for ((x, y, _, _), _, alpha), colour in zip(placed, colours):
        _paste(img, alpha, x, y, colour)
    return Scene(np.round(np.clip(img, 0, 255)).astype(np.uint8),
                 [(box, k) for box, k, _ in placed], drawn)


def overlap_fraction(a: Box, b: Box) -> float:
    """The intersection of boxes ``(x, y, w, h)`` over the smaller one's
    area: how much of the smaller one the other covers."""
    iw = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    ih = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    return iw * ih / min(a[2] * a[3], b[2] * b[3])


def _background(rng: np.random.Generator, canvas: int) -> np.ndarray:
    """A dark (canvas, canvas, 3) float canvas: a level, a linear gradient
    in a random direction and uniform noise, all below ``BACKGROUND_MAX``
    (the noise may take a pixel below 0: clipped when the scene is
    rounded)."""
    level = float(rng.integers(10, 60))
    angle = rng.uniform(0, 2 * math.pi)
    ramp = rng.uniform(0, 15)
    ys, xs = np.mgrid[0:canvas, 0:canvas].astype(np.float32) / (canvas - 1)
    # in [-ramp, ramp] along the direction
    gradient = ramp * (math.cos(angle) * (2 * xs - 1) +
                       math.sin(angle) * (2 * ys - 1)) / math.sqrt(2)
    noise = int(rng.integers(3, 26))
    return (level + gradient[..., None] +
            rng.integers(-noise, noise + 1, (canvas, canvas, 3))).astype(
                np.float32)


def _ink(cv2, digit: np.ndarray, w: int, h: int) -> Optional[np.ndarray]:
    """The digit resized to ``w`` x ``h`` as alpha in [0, 1], its bilinear
    tails below ``_INK_ALPHA`` cut and cropped to its ink (None where no ink
    is left at that size)."""
    alpha = _cut_tails(cv2.resize(digit, (w, h),
                                  interpolation=cv2.INTER_AREA))
    box = _ink_box(alpha)
    if box is None:
        return None
    x, y, w, h = box
    return alpha[y:y + h, x:x + w]


def _cut_tails(image: np.ndarray) -> np.ndarray:
    """uint8 ink as alpha in [0, 1], zero below ``_INK_ALPHA``: the
    antialiasing tails cut, so that a box is exactly the drawn ink."""
    alpha = image.astype(np.float32) / 255
    alpha[alpha < _INK_ALPHA] = 0
    return alpha


def _ink_box(alpha: np.ndarray) -> Optional[Box]:
    """The tight box of the nonzero pixels of ``alpha``, None if none."""
    rows, cols = np.nonzero(alpha.any(1))[0], np.nonzero(alpha.any(0))[0]
    if not len(rows):
        return None
    return (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1),
            int(rows[-1] - rows[0] + 1))


def _size(rng: np.random.Generator, sizes: Tuple[int, int]
          ) -> Tuple[int, int]:
    """(w, h) of a digit: h log-uniform in ``sizes``, w 0.8-1.1 of it."""
    h = int(round(math.exp(rng.uniform(math.log(sizes[0]),
                                       math.log(sizes[1])))))
    return max(4, round(h * rng.uniform(0.8, 1.1))), h


def _place_digit(rng: np.random.Generator, cv2, pool: np.ndarray,
                 canvas: int, sizes: Tuple[int, int], boxes: List[Box],
                 max_overlap: float) -> Tuple[Box, int, np.ndarray]:
    """A digit, its size and a spot where it covers at most
    ``max_overlap`` of any box in ``boxes`` and they at most that of it:
    (its ink box on the canvas, its pool index, its cropped alpha)."""
    for _ in range(_TRIES):
        k = int(rng.integers(len(pool)))
        alpha = _ink(cv2, pool[k], *_size(rng, sizes))
        if alpha is None:
            continue
        h, w = alpha.shape
        box = (int(rng.integers(0, canvas - w + 1)),
               int(rng.integers(0, canvas - h + 1)), w, h)
        if all(overlap_fraction(box, other) <= max_overlap
               for other in boxes):
            return box, k, alpha
    raise RuntimeError(
        f'no free spot for digit {len(boxes) + 1} of a scene after {_TRIES} '
        f'tries: the canvas ({canvas} px) is too small for that many digits '
        f'of sizes {sizes}; lower digits / digit_sizes or raise max_overlap')


def _draw_fragment(rng: np.random.Generator, cv2, pool: np.ndarray,
                   img: np.ndarray, sizes: Tuple[int, int],
                   boxes: List[Box]) -> Optional[Box]:
    """A piece of a digit (its ink box cut across one side to 35-60 % of
    its width or height) drawn clear of every box in ``boxes``; returns its
    box, or None where it found no free spot."""
    alpha = _ink(cv2, pool[int(rng.integers(len(pool)))], *_size(rng, sizes))
    if alpha is None:
        return None
    h, w = alpha.shape
    keep = rng.uniform(0.35, FRAGMENT_MAX)
    side = int(rng.integers(4))  # the part kept: top, bottom, left, right
    if side < 2:
        cut = max(1, int(h * keep))
        alpha = alpha[:cut] if side == 0 else alpha[h - cut:]
    else:
        cut = max(1, int(w * keep))
        alpha = alpha[:, :cut] if side == 2 else alpha[:, w - cut:]
    h, w = alpha.shape
    canvas = img.shape[0]
    for _ in range(20):
        box = (int(rng.integers(0, canvas - w + 1)),
               int(rng.integers(0, canvas - h + 1)), w, h)
        if all(overlap_fraction(box, other) == 0 for other in boxes):
            _paste(img, alpha, box[0], box[1], _colour(rng))
            return box
    return None


def _draw_stroke(rng: np.random.Generator, cv2, img: np.ndarray,
                 kind: str) -> Optional[Box]:
    """A straight line or an arc of a circle or an ellipse, 1-3 pixels
    thick, anywhere on the canvas; returns the box of its ink."""
    canvas = img.shape[0]
    mask = np.zeros((canvas, canvas), np.uint8)
    thickness = int(rng.integers(1, 4))
    if kind == 'line':
        start = rng.integers(0, canvas, 2)
        angle = rng.uniform(0, 2 * math.pi)
        length = rng.uniform(10, canvas / 2)
        end = start + length * np.array([math.cos(angle), math.sin(angle)])
        cv2.line(mask, tuple(int(v) for v in start),
                 tuple(int(round(v)) for v in end), 255, thickness,
                 cv2.LINE_AA)
    else:
        centre = tuple(int(v) for v in rng.integers(0, canvas, 2))
        axes = tuple(int(v) for v in rng.integers(5, 26, 2))
        start = float(rng.uniform(0, 360))
        cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), start,
                    start + float(rng.uniform(60, 200)), 255, thickness,
                    cv2.LINE_AA)
    alpha = _cut_tails(mask)
    box = _ink_box(alpha)
    if box is not None:  # (None: wholly off the canvas)
        _paste(img, alpha, 0, 0, _colour(rng))
    return box


def _colour(rng: np.random.Generator) -> np.ndarray:
    """A bright RGB colour: digits and distractors alike, so that colour
    does not tell them apart."""
    return rng.integers(150, 256, 3).astype(np.float32)


def _paste(img: np.ndarray, alpha: np.ndarray, x: int, y: int,
           colour: np.ndarray) -> None:
    """Blends ``colour`` into ``img`` at (x, y) through ``alpha``."""
    h, w = alpha.shape
    a = alpha[..., None]
    img[y:y + h, x:x + w] = img[y:y + h, x:x + w] * (1 - a) + colour * a
