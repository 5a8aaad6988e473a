"""Batched, on-device augmentation and normalisation for classification."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor
from mmengine.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class ClsDataPreprocessor(BaseDataPreprocessor):
    """Moves a collated batch to the device and, when training, applies
    random crop with zero padding and random horizontal flip to the whole
    batch at once; then normalises.

    The augmentation has the distribution of torchvision's
    ``RandomCrop(size, padding=pad_crop)`` followed by
    ``RandomHorizontalFlip()``: each sample draws its own offsets uniformly
    from 0..2*pad_crop and flips with probability 0.5. Random numbers come
    from torch's default generator of the device, so ``torch.manual_seed``
    (mmengine's ``randomness.seed``) makes runs reproducible.

    Args:
        mean, std (Sequence[float]): per-channel statistics in 0-1 scale.
        pad_crop (int, optional): zero padding of the random crop; 0 or None
            disables the crop.
        flip (bool): random horizontal flip.
        non_blocking (bool): copy a host batch to the GPU without waiting
            for the GPU to finish the work queued before it (default True:
            a blocking copy synchronises the host with the GPU every step).
            The batch stays safe either way: from pageable memory CUDA stages
            the data before the call returns, from pinned memory torch holds
            the buffer until the copy is done.

    Input ``data``: ``dict(inputs=(B, 3, H, W) tensor or list of (3, H, W),
    data_samples=LongTensor (B,) or list of int)``. uint8 inputs are 0-255
    and divided by 255; floating inputs are taken as 0-1 already.
    Output: ``dict(inputs=float32 (B, 3, H, W), data_samples=LongTensor
    (B,))`` on the device.
    """

    def __init__(self,
                 mean: Sequence[float] = (0.5071, 0.4867, 0.4408),
                 std: Sequence[float] = (0.2675, 0.2565, 0.2761),
                 pad_crop: Optional[int] = 4,
                 flip: bool = True,
                 non_blocking: bool = True):
        super().__init__(non_blocking=non_blocking)
        if len(mean) != len(std):
            raise ValueError(f'mean {tuple(mean)} and std {tuple(std)} need '
                             'one value per channel each')
        if pad_crop is not None and pad_crop < 0:
            raise ValueError(f'pad_crop must be >= 0 or None, got {pad_crop}')
        self.pad_crop = pad_crop or 0
        self.flip = flip
        std_t = torch.tensor(std, dtype=torch.float32).view(-1, 1, 1)
        mean_t = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        # (x / 255 - mean) / std as one multiply and one subtract per pixel;
        # not persistent, so checkpoints hold model weights only
        self.register_buffer('scale', 1 / (255 * std_t), persistent=False)
        self.register_buffer('shift', mean_t / std_t, persistent=False)

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs, labels = data['inputs'], data['data_samples']
        # mmengine's default collate_fn (pseudo_collate) leaves lists
        if isinstance(inputs, (list, tuple)):
            if inputs and isinstance(inputs[0], bytes):
                raise TypeError(
                    'ClsDataPreprocessor got undecoded image files '
                    "(ImageNet(decode='device')): set model.data_preprocessor"
                    ".type='JpegClsDataPreprocessor' to decode them on the "
                    "device, or train_dataloader.dataset.decode='worker'")
            inputs = torch.stack(list(inputs))
        data = self.cast_data(dict(inputs=inputs, data_samples=labels))
        inputs = data['inputs']
        labels = torch.as_tensor(
            data['data_samples'], dtype=torch.long, device=self.device)
        if training:
            inputs = self.augment(inputs)
        return dict(inputs=self.normalize(inputs), data_samples=labels)

    def normalize(self, inputs: Tensor) -> Tensor:
        """(B, C, H, W) uint8 (0-255) or float (0-1) -> float32 normalised."""
        scale = self.scale if inputs.dtype == torch.uint8 else self.scale * 255
        # copy=True: a float input must not be normalised in place
        return inputs.to(torch.float32, copy=True).mul_(scale).sub_(self.shift)

    def augment(self, inputs: Tensor) -> Tensor:
        """Random padded crop and flip of (B, C, H, W), any dtype; one gather
        over flat pixel indices serves both, so there is no per-sample loop.
        """
        if not self.pad_crop and not self.flip:
            return inputs
        batch, channels, height, width = inputs.shape
        pad = self.pad_crop
        device = inputs.device
        if pad:
            inputs = torch.nn.functional.pad(inputs, (pad, pad, pad, pad))
        offset_y, offset_x = torch.randint(
            0, 2 * pad + 1, (2, batch, 1, 1), device=device)
        cols = torch.arange(width, device=device)
        if self.flip:
            flipped = torch.rand(batch, 1, 1, device=device) < 0.5
            cols = torch.where(flipped, cols.flip(0), cols)
        rows = torch.arange(height, device=device)[:, None]
        # (B, H, W) flat index into each padded (H + 2p) x (W + 2p) plane
        index = (offset_y + rows) * (width + 2 * pad) + offset_x + cols
        out = inputs.flatten(2).gather(
            2,
            index.view(batch, 1, -1).expand(-1, channels, -1))
        return out.view(batch, channels, height, width)
