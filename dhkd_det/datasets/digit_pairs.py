"""Digit pairs: a 100-class image benchmark in CIFAR-100's on-disk layout,
made offline and deterministically from scikit-learn's handwritten digits.

Why it exists: on the plain digits every method is above 96 % top-1 and
one test image moves the mean by 0.22 pt, so no distillation method can be
told from another, and the ten classes share little structure for a
teacher's soft targets to carry.  This set is built to be neither:

- **100 classes with structure.**  Class ``10 * a + b`` is the two-digit
  number "ab": a handwritten ``a`` in warm ink on the left half of a 32x32
  canvas and ``b`` in cool ink on the right half.  Classes that share a
  digit in the same place (37 and 38), or whose digits are confusable (38
  and 39), are similar, as CIFAR-100's classes of one superclass are: a
  teacher's probabilities over the wrong classes are informative ("dark
  knowledge"), unlike on ten unrelated classes.  The two inks tell the two
  digits apart for a network that pools its features over the whole image
  (every CIFAR network does); drawn in one ink, a resnet8 learned the
  training set without learning which side each digit was on (test top-1
  at chance after 800 iterations while its training loss fell).
- **Not saturated.**  Each digit is an 8x8 scan blown up to about its
  half of the canvas, shifted, rotated and sheared at random, its stroke
  thickened or thinned; each canvas has its own shades of the two inks and
  of a dark background, ink of random strength, pixel noise, and clutter
  strokes in one of the inks.  ``difficulty`` scales all of these;
  :data:`DIFFICULTY` is the benchmark's, chosen (before any distillation
  method ran on it) so that a resnet8 trained alone by the study recipe
  stays below 85 % top-1 and a resnet20 teacher well above it.
- **Held-out handwriting.**  Training images are composed from the
  training split of :func:`digit_split` and test images from its held-out
  split: a test image is two handwritten digits the network never saw, not
  a seen pair on a new canvas.  ``root/digit_pairs_sources.json`` names,
  per split and image, the indices into ``sklearn.datasets.load_digits()``
  of its two digits.
- **CIFAR-100's layout** (:func:`write_cifar`: ``cifar-100-python/{train,
  test,meta}``), so every config, tool and third-party CIFAR-100 loader
  reads it unchanged (torchvision's too, once told not to check the
  official files' md5).

Everything is drawn from ``numpy.random.default_rng([seed, split])`` and
rendered by float32 arithmetic in torch on the CPU with one thread, so the
same arguments write byte-identical files (the tests check).
"""
import json
import math
import os.path as osp
from typing import Dict, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .cifar import write_cifar
from .digits import _sklearn_digits, digit_split

CANVAS = 32
NUM_CLASSES = 100
SOURCES_FILE = 'digit_pairs_sources.json'
#: the benchmark's difficulty (docs/study.md says how it was chosen)
DIFFICULTY = 1.5
#: split -> the stream index of its random generator
_STREAMS = dict(train=0, test=1)


def class_names():
    """'00' .. '99': the number each class shows."""
    return [f'{c:02d}' for c in range(NUM_CLASSES)]


def digit_pairs_as_cifar(root: str, train_per_class: int = 100,
                         test_per_class: int = 20, seed: int = 0,
                         difficulty: float = DIFFICULTY) -> Dict[str, int]:
    """Writes the digit-pairs set under ``root`` in CIFAR-100's layout
    (``root/cifar-100-python/``); returns the split sizes.

    Args:
        train_per_class, test_per_class: images per class and split.
        seed: the source-digit split (:func:`digit_split`) and every random
            draw; the same arguments write the same bytes.
        difficulty: scales the clutter, noise, ink strength and geometric
            jitter, from 0 (clean, centred pairs) to 1.5; :data:`DIFFICULTY`
            is the benchmark.
    """
    if train_per_class < 1 or test_per_class < 1:
        raise ValueError('train_per_class and test_per_class must be >= 1, '
                         f'got {train_per_class} and {test_per_class}')
    if not 0 <= difficulty <= 1.5:
        raise ValueError(f'difficulty must lie in [0, 1.5], got {difficulty}')
    digits = _sklearn_digits()
    glyphs = torch.from_numpy(digits.images).float() / 16.0  # (N, 8, 8)
    train_idx, test_idx = digit_split(seed)
    splits, sources = {}, {}
    for split, idx, per_class in (('train', train_idx, train_per_class),
                                  ('test', test_idx, test_per_class)):
        rng = np.random.default_rng([seed, _STREAMS[split]])
        images, labels, drawn = render_split(
            glyphs[idx], digits.target[idx], per_class, rng, difficulty)
        splits[split] = (images, labels)
        sources[split] = idx[drawn].tolist()
    write_cifar(root, train=splits['train'], test=splits['test'],
                class_names=class_names())
    with open(osp.join(root, SOURCES_FILE), 'w') as f:
        json.dump(dict(seed=seed, difficulty=difficulty, **sources), f)
    return {split: len(labels) for split, (_, labels) in splits.items()}


def render_split(glyphs: torch.Tensor, digit_labels: np.ndarray,
                 per_class: int, rng: np.random.Generator,
                 difficulty: float = DIFFICULTY
                 ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``per_class`` images of every class 00-99 composed from ``glyphs``
    (float (N, 8, 8) in [0, 1]) of the given digit labels, each image at
    a difficulty drawn uniformly from [0, ``difficulty``]; returns uint8
    images (100 * per_class, 32, 32, 3), their labels (classes in a
    shuffled order) and the (tens, ones) rows of ``glyphs`` drawn, (M, 2).
    """
    labels = rng.permutation(np.repeat(np.arange(NUM_CLASSES), per_class))
    pools = [np.flatnonzero(digit_labels == d) for d in range(10)]
    if any(len(p) == 0 for p in pools):
        raise ValueError('every digit 0-9 needs at least one source image')
    tens = np.array([rng.choice(pools[d]) for d in labels // 10])
    ones = np.array([rng.choice(pools[d]) for d in labels % 10])
    n = len(labels)
    # each image its own difficulty, easy and hard ones mixed
    level = rng.uniform(0, difficulty, n)
    with _one_thread():
        inks = [_place(_stroke(glyphs[tens], rng), _pose(rng, n, 0, level)),
                _place(_stroke(glyphs[ones], rng), _pose(rng, n, 1, level)),
                _clutter(rng, n, level)]
        images = _colour(inks, rng, level)
    return images, labels, np.stack([tens, ones], 1)


class _one_thread:
    """torch on one thread inside: the same bytes on every machine size."""

    def __enter__(self):
        self.threads = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        torch.set_num_threads(self.threads)


def _uniform(rng, n, lo, hi):
    return torch.from_numpy(rng.uniform(lo, hi, n).astype(np.float32))


def _stroke(glyphs: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """The 8x8 glyphs at 16x16 (N, 1, 16, 16), a third of them thickened
    (grey dilation) and a third thinned (grey erosion): pen widths vary."""
    big = F.interpolate(glyphs[:, None], size=(16, 16), mode='bilinear',
                        align_corners=False)
    choice = torch.from_numpy(rng.integers(0, 3, len(glyphs)))
    thick = F.max_pool2d(big, 3, 1, 1)
    thin = -F.max_pool2d(-big, 3, 1, 1)
    out = torch.where((choice == 1)[:, None, None, None], thick, big)
    return torch.where((choice == 2)[:, None, None, None], thin, out)


def _pose(rng: np.random.Generator, n: int, slot: int,
          level: np.ndarray) -> torch.Tensor:
    """Affine maps (n, 2, 3) from canvas to glyph coordinates (both in
    ``affine_grid``'s [-1, 1]) for the digit in ``slot`` (0: the tens, on
    the left; 1: the ones, on the right): each about as large as its half
    of the canvas (13-16 px wide, 1.6-1.9 times as high), shifted, rotated
    and sheared a little; ``level`` (n,): each image's difficulty."""
    d = level
    width = _uniform(rng, n, 14.5 - 1.5 * d, 14.5 + 1.5 * d)
    height = width * _uniform(rng, n, 1.75 - 0.15 * d, 1.75 + 0.15 * d)
    cx = (8.5 if slot == 0 else 23.5) + _uniform(rng, n, -1.5 * d, 1.5 * d)
    cy = 16 + _uniform(rng, n, -2 * d, 2 * d)
    angle = _uniform(rng, n, -0.2 * d, 0.2 * d)        # radians, ~ +-11 deg
    shear = _uniform(rng, n, -0.25 * d, 0.25 * d)
    # canvas point p -> glyph point q = S^-1 Sh^-1 R^-1 (p - c), in the
    # canvas's normalised frame (square, so rotation keeps its shape)
    cos, sin = torch.cos(angle), torch.sin(angle)
    rot_inv = torch.stack([torch.stack([cos, sin], -1),
                           torch.stack([-sin, cos], -1)], -2)
    shear_inv = torch.zeros(n, 2, 2)
    shear_inv[:, 0, 0] = shear_inv[:, 1, 1] = 1
    shear_inv[:, 0, 1] = -shear
    scale_inv = torch.diag_embed(torch.stack(
        [CANVAS / width, CANVAS / height], -1))
    linear = scale_inv @ shear_inv @ rot_inv
    centre = torch.stack([2 * cx / CANVAS - 1, 2 * cy / CANVAS - 1], -1)
    offset = -(linear @ centre[..., None])
    return torch.cat([linear, offset], -1)


def _place(glyphs: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """The glyphs drawn on the canvas by the maps ``theta``: ink (N, 1, 32,
    32) in [0, 1]."""
    grid = F.affine_grid(theta, (len(glyphs), 1, CANVAS, CANVAS),
                         align_corners=False)
    return F.grid_sample(glyphs, grid, mode='bilinear', padding_mode='zeros',
                         align_corners=False)


def _clutter(rng: np.random.Generator, n: int,
             level: np.ndarray) -> torch.Tensor:
    """Up to 3 times the image's difficulty ``level`` straight strokes per
    canvas, 1-1.5 px wide, 6-18 px long, anywhere: marks that are not
    digits and that a classifier must learn to ignore."""
    ys, xs = torch.meshgrid(torch.arange(CANVAS) + 0.5,
                            torch.arange(CANVAS) + 0.5, indexing='ij')
    ink = torch.zeros(n, 1, CANVAS, CANVAS)
    max_strokes = np.rint(3 * level).astype(np.int64)
    counts = rng.integers(0, max_strokes + 1, n)
    for k in range(int(max_strokes.max(initial=0))):
        on = torch.from_numpy(counts > k)
        x0, y0 = _uniform(rng, n, 0, CANVAS), _uniform(rng, n, 0, CANVAS)
        length = _uniform(rng, n, 6, 18)
        angle = _uniform(rng, n, 0, math.pi)
        half_width = _uniform(rng, n, 0.5, 0.75)
        strength = _uniform(rng, n, 0.5, 1.0)
        dx, dy = torch.cos(angle), torch.sin(angle)
        # distance of each pixel to the segment from (x0, y0) along (dx, dy)
        px = xs[None] - x0[:, None, None]
        py = ys[None] - y0[:, None, None]
        t = (px * dx[:, None, None] + py * dy[:, None, None]).clamp(
            min=torch.zeros(1), max=length[:, None, None])
        dist = torch.hypot(px - t * dx[:, None, None],
                           py - t * dy[:, None, None])
        stroke = (half_width[:, None, None] + 0.5 - dist).clamp(0, 1)
        stroke = stroke * (strength * on)[:, None, None]
        ink = torch.maximum(ink, stroke[:, None])
    return ink


def _colour(inks, rng: np.random.Generator, level: np.ndarray
            ) -> np.ndarray:
    """The tens' ink warm (red-orange-yellow), the ones' cool (blue-cyan-
    violet), each canvas its own shades, over a dark, slightly tinted
    background; the ink's strength and Gaussian pixel noise by the image's
    difficulty ``level``; the clutter in one of the two inks; uint8 (N, 32,
    32, 3).  The two inks tell the two digits apart for a
    network that pools over the whole image, as every CIFAR network does:
    without them it has to learn which side each digit is on, which a
    resnet8 did not within the study's budget (docs/study.md)."""
    tens, ones, clutter = inks
    n = len(tens)

    def colours(lo, hi):
        return torch.from_numpy(rng.uniform(lo, hi, (n, 3)).astype(
            np.float32))[..., None, None]

    warm = colours((0.75, 0.2, 0.0), (1.0, 0.75, 0.3))
    cool = colours((0.0, 0.2, 0.75), (0.3, 0.75, 1.0))
    background = colours((0.0, 0.0, 0.0), (0.15, 0.15, 0.15)) + colours(
        (0.0,) * 3, (0.3,) * 3).mean(1, keepdim=True)
    strength = _uniform(rng, n, 1 - 0.5 * level, 1.0)[:, None, None, None]
    clutter_warm = torch.from_numpy(rng.random(n) < 0.5)[:, None, None, None]
    image = background
    for ink, colour in ((tens, warm), (ones, cool),
                        (clutter, torch.where(clutter_warm, warm, cool))):
        alpha = ink * strength
        image = image * (1 - alpha) + colour * alpha
    sigma = _uniform(rng, n, 0, 0.1 * level)[:, None, None, None]
    noise = torch.from_numpy(rng.standard_normal(
        (n, 3, CANVAS, CANVAS)).astype(np.float32))
    image = (image + sigma * noise).clamp(0, 1)
    return (image * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
