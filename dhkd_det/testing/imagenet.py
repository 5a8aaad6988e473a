"""A generated ImageNet-layout folder of JPEGs (``<root>/{train,val}/<wnid>/
*.JPEG``) whose files are as large as ImageNet's: smooth content with mild
grain, since random pixels would compress far worse than photographs."""
import os
import os.path as osp
from typing import List, Sequence, Tuple

import numpy as np
from PIL import Image


def write_imagenet(root: str, num_classes: int = 2, per_class: int = 3,
                   splits: Sequence[str] = ('train', 'val'),
                   long_side: Tuple[int, int] = (400, 600),
                   gray_every: int = 0, seed: int = 0) -> List[str]:
    """Writes ``per_class`` JPEGs (quality 90) per class and split under
    ``root`` and returns the class folder names (``n00000000``, ...).

    Each image's long side is uniform in ``long_side`` and its aspect ratio
    in 1..1.5, landscape or portrait at random: the default averages about
    500 x 375 and 100 KB a file, as ImageNet's train split. Every
    ``gray_every``-th image (0: none) is a grayscale JPEG, as ImageNet has
    some."""
    rng = np.random.default_rng(seed)
    wnids = [f'n{i:08d}' for i in range(num_classes)]
    count = 0
    for split in splits:
        for wnid in wnids:
            folder = osp.join(root, split, wnid)
            os.makedirs(folder, exist_ok=True)
            for i in range(per_class):
                image = smooth_image(rng, long_side)
                count += 1
                if gray_every and count % gray_every == 0:
                    image = image.convert('L')
                image.save(osp.join(folder, f'{wnid}_{i}.JPEG'), quality=90)
    return wnids


def smooth_image(rng: np.random.Generator,
                 long_side: Tuple[int, int]) -> Image.Image:
    """An RGB image: random colours at a fifth of its size, upscaled
    bicubically, plus Gaussian grain (sigma 10)."""
    long = int(rng.integers(long_side[0], long_side[1] + 1))
    short = max(1, round(long / rng.uniform(1.0, 1.5)))
    width, height = (long, short) if rng.random() < 0.5 else (short, long)
    coarse = rng.integers(0, 256, (max(1, height // 5), max(1, width // 5),
                                   3), dtype=np.uint8)
    pixels = np.asarray(Image.fromarray(coarse).resize(
        (width, height), Image.BICUBIC), dtype=np.float32)
    pixels += rng.normal(0, 10, pixels.shape).astype(np.float32)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
