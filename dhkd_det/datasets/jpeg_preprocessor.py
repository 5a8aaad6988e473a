"""Training images decoded and augmented on the device: the data preprocessor
of ``ImageNet(decode='device')``."""
from typing import Sequence

from mmengine.registry import MODELS

from .jpeg_decode import decode_rgb
from .preprocessor import ClsDataPreprocessor
from .random_resized_crop import (check_crop_arguments,
                                  random_resized_crop_boxes, resized_crops)

SWITCH = ("set both train_dataloader.dataset.decode='device' and "
          "model.data_preprocessor.type='JpegClsDataPreprocessor', or "
          "neither")


@MODELS.register_module()
class JpegClsDataPreprocessor(ClsDataPreprocessor):
    """:class:`ClsDataPreprocessor` for training batches of undecoded image
    files (``ImageNet(decode='device')``): decodes the whole batch on the
    preprocessor's device (``torchvision.io.decode_jpeg``: nvJPEG on a GPU,
    libjpeg on the CPU), applies RandomResizedCrop(crop_size) with
    torchvision's distribution (``v2.RandomResizedCrop(crop_size, scale,
    ratio, antialias=True)``), then the parent's flip and normalisation.
    Loader workers only read files, so a GPU machine needs few CPU cores to
    feed the model.

    Random numbers come from torch's default generator of the device, so
    ``randomness.seed`` makes runs reproducible. Validation batches are
    decoded, resized and centre-cropped in the workers as before
    (``ImageNet(split='val')``) and pass through the parent unchanged.

    Args:
        crop_size (int): side of the training crops (the data set's
            ``crop_size`` is for validation only in this mode).
        scale, ratio (tuple[float, float]): RandomResizedCrop's area
            fraction and aspect-ratio ranges.
        **kwargs: :class:`ClsDataPreprocessor`'s (``mean``, ``std``,
            ``flip``, ...); ``pad_crop`` must stay 0.

    Input ``data`` in training: ``dict(inputs=list of bytes (the files),
    data_samples=labels, img_path=list of str)``, as ``default_collate``
    batches ``ImageNet(decode='device')``'s samples. Output: as the
    parent's, ``inputs`` float32 (B, 3, crop_size, crop_size).
    """

    def __init__(self,
                 crop_size: int = 224,
                 scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3),
                 **kwargs):
        kwargs.setdefault('pad_crop', 0)
        if kwargs['pad_crop']:
            raise ValueError(
                'JpegClsDataPreprocessor crops with RandomResizedCrop: set '
                'model.data_preprocessor.pad_crop=0, got '
                f'{kwargs["pad_crop"]}')
        super().__init__(**kwargs)
        check_crop_arguments(crop_size, scale, ratio)
        self.crop_size = crop_size
        # not self.scale: the parent's normalisation buffer
        self.crop_scale = tuple(scale)
        self.crop_ratio = tuple(ratio)

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        encoded = isinstance(inputs, (list, tuple)) and bool(inputs) and \
            isinstance(inputs[0], bytes)
        if encoded != training:
            raise TypeError(
                'JpegClsDataPreprocessor decodes training batches of image '
                'files and passes decoded validation batches through; it got '
                f'{"undecoded" if encoded else "decoded"} images in '
                f'{"training" if training else "validation"}: {SWITCH} (the '
                "val dataloader's data set stays at decode='worker')")
        if encoded:
            images = decode_rgb(inputs, data['img_path'], self.device)
            boxes = random_resized_crop_boxes(
                [tuple(image.shape[1:]) for image in images], self.crop_scale,
                self.crop_ratio, self.device)
            data = dict(inputs=resized_crops(images, boxes, self.crop_size),
                        data_samples=data['data_samples'])
        return super().forward(data, training)
