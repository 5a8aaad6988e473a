"""A batch of encoded images decoded to RGB on one device: JPEGs in one
batched ``decode_jpeg`` call (nvJPEG on a GPU), the rare file it cannot
read (ImageNet's train split holds a PNG and CMYK JPEGs under .JPEG names)
one at a time, and a file nothing can read named."""
from typing import List, Sequence

import torch
from torch import Tensor
from torchvision.io import ImageReadMode, decode_image, decode_jpeg


def decode_rgb(encoded: Sequence[bytes], paths: Sequence[str],
               device: torch.device) -> List[Tensor]:
    """(3, H, W) uint8 images on ``device``, one per file content of
    ``encoded`` (read from ``paths``, used in errors); grayscale and CMYK
    come out RGB.  One unreadable image fails the batched call as a whole,
    so only then is each image decoded alone, to find it."""
    data = [torch.frombuffer(bytearray(e), dtype=torch.uint8)
            for e in encoded]
    try:
        return decode_jpeg(data, mode=ImageReadMode.RGB, device=device)
    except RuntimeError:
        return [decode_one(d, path, device) for d, path in zip(data, paths)]


def decode_one(data: Tensor, path: str, device: torch.device) -> Tensor:
    """One image on ``device``: as a JPEG there, else by the CPU decoder of
    every format torchvision reads, else an error naming ``path``."""
    try:
        return decode_jpeg(data, mode=ImageReadMode.RGB, device=device)
    except RuntimeError:
        pass
    try:
        return decode_image(data, mode=ImageReadMode.RGB).to(device)
    except RuntimeError as e:
        raise RuntimeError(f'cannot decode image {path} ({e}); replace or '
                           'delete the file') from e
