"""RandomResizedCrop for a batch of images of different sizes on one device:
the crop boxes of all images drawn at once with torchvision's distribution,
then each crop resized (bilinear, antialiased) to the output size."""
import math
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

#: torchvision's RandomResizedCrop: tries before its central-crop fallback
TRIES = 10


def random_resized_crop_boxes(sizes: Sequence[Tuple[int, int]],
                              scale: Tuple[float, float],
                              ratio: Tuple[float, float],
                              device: torch.device) -> List[Tuple[int, ...]]:
    """``(top, left, height, width)`` of one crop per image of ``sizes``
    (``(height, width)`` each), distributed as torchvision's
    ``v2.RandomResizedCrop(size, scale, ratio).make_params``: up to 10 tries
    of an area fraction uniform in ``scale`` and a log aspect ratio uniform
    in log ``ratio``, the first that fits taken with a uniform position,
    else the central crop of the nearest allowed aspect ratio.

    All tries of all images are drawn at once from the default generator of
    ``device`` (seeded by ``torch.manual_seed``), as torchvision does in
    float32 draws and float64 arithmetic; the boxes come back to the host in
    one read, since slicing the images needs them there.
    """
    batch = len(sizes)
    hw = torch.tensor(sizes, dtype=torch.float64, device=device)
    height, width = hw[:, :1], hw[:, 1:]
    log_ratio = torch.log(torch.tensor(ratio))
    area_fraction = torch.empty(batch, TRIES, device=device).uniform_(*scale)
    aspect = torch.empty(batch, TRIES, device=device).uniform_(
        float(log_ratio[0]), float(log_ratio[1])).exp_()
    area = height * width * area_fraction.double()
    aspect = aspect.double()
    # torch.round and Python's round both round half to even
    crop_w = (area * aspect).sqrt_().round_()
    crop_h = (area / aspect).sqrt_().round_()
    fits = (crop_w > 0) & (crop_w <= width) & (crop_h > 0) & \
        (crop_h <= height)
    first = fits.to(torch.uint8).argmax(1, keepdim=True)
    crop_w = crop_w.gather(1, first)
    crop_h = crop_h.gather(1, first)
    position = torch.rand(batch, 2, device=device, dtype=torch.float64)
    # floor(u * n) is uniform on 0..n-1, as torch.randint(0, n)
    top = (position[:, :1] * (height - crop_h + 1)).floor_()
    left = (position[:, 1:] * (width - crop_w + 1)).floor_()
    boxes = torch.cat([top, left, crop_h, crop_w, fits.any(1, keepdim=True)],
                      1).long().tolist()
    return [tuple(box[:4]) if box[4] else central_crop(h, w, ratio)
            for box, (h, w) in zip(boxes, sizes)]


def central_crop(height: int, width: int,
                 ratio: Tuple[float, float]) -> Tuple[int, int, int, int]:
    """torchvision's fallback when no try fits: the whole image, clipped to
    the nearest aspect ratio in ``ratio`` and centred."""
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        w, h = int(round(height * max(ratio))), height
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def resized_crops(images: Sequence[Tensor], boxes: Sequence[Tuple[int, ...]],
                  size: int) -> Tensor:
    """(B, C, size, size) uint8: each (C, H, W) uint8 image cropped to its
    ``(top, left, height, width)`` box and resized to size x size as
    torchvision's ``resized_crop(..., antialias=True)`` does (bilinear with
    antialiasing, rounded back to uint8).  One resize per image: the crops
    differ in size."""
    first = images[0]
    out = first.new_empty((len(images), first.shape[0], size, size))
    for k, (image, (top, left, h, w)) in enumerate(zip(images, boxes)):
        crop = image[None, :, top:top + h, left:left + w].float()
        resized = F.interpolate(crop, (size, size), mode='bilinear',
                                antialias=True, align_corners=False)
        out[k] = resized[0].round_().clamp_(0, 255)
    return out


def check_crop_arguments(size: int, scale: Sequence[float],
                         ratio: Sequence[float]) -> None:
    """torchvision's own checks of RandomResizedCrop's arguments, with the
    key to change."""
    if not (isinstance(size, int) and size > 0):
        raise ValueError(f'crop_size must be a positive int, got {size!r}')
    for name, pair in (('scale', scale), ('ratio', ratio)):
        if len(pair) != 2 or not 0 < pair[0] <= pair[1] or \
                not math.isfinite(pair[1]):
            raise ValueError(f'{name} must be (low, high) with 0 < low <= '
                             f'high, got {tuple(pair)!r}')
