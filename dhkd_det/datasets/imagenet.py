"""ImageNet (ILSVRC-2012) from the usual class-folder layout, decoded to uint8
tensors in the loader workers, or with ``decode='device'`` read as undecoded
files for ``JpegClsDataPreprocessor`` to decode on the device; flip and
normalisation are left to the batched preprocessor."""
import os
import os.path as osp
from typing import Optional

import numpy as np
from mmengine.registry import DATASETS
from torchvision.datasets import ImageFolder
from torchvision.io import ImageReadMode, decode_image
from torchvision.transforms import v2

from .labelled import LabelledDataset

SPLITS = ('train', 'val')
DECODES = ('worker', 'device')
LAYOUT = ('expected layout: <data_root>/{train,val}/<wnid>/*.JPEG, one '
          'folder per class with the same class folders in both splits; set '
          'train_dataloader.dataset.data_root (and the val dataloader\'s) to '
          '<data_root>')


@DATASETS.register_module()
class ImageNet(LabelledDataset):
    """Class-folder image data set, indexed by torchvision's ImageFolder.

    A sample is ``dict(inputs=uint8 tensor (3, crop_size, crop_size),
    data_samples=int)``: train takes RandomResizedCrop(crop_size); val takes
    Resize(256 * crop_size / 224) of the short side, then
    CenterCrop(crop_size).  With ``decode='device'`` (train only) a sample
    is ``dict(inputs=bytes (the file), data_samples=int, img_path=str)``:
    workers only read files, and ``JpegClsDataPreprocessor`` decodes and
    crops the batch on the device (``default_collate`` keeps the bytes as
    a list).

    Args:
        data_root (str): folder holding ``train/`` and ``val/``.
        split (str): 'train' or 'val'.
        crop_size (int, optional): output side length (default 224); with
            ``decode='device'`` the preprocessor's ``crop_size`` instead.
        decode (str): 'worker' (decode and crop in the loader workers) or
            'device' (see above).
    """

    def __init__(self, data_root: str, split: str = 'train',
                 crop_size: Optional[int] = None, decode: str = 'worker'):
        if split not in SPLITS:
            raise ValueError(f'ImageNet split must be one of {SPLITS}, '
                             f'got {split!r}')
        if decode not in DECODES:
            raise ValueError(f'ImageNet decode must be one of {DECODES}, '
                             f'got {decode!r}')
        if decode == 'device' and split != 'train':
            raise ValueError(
                "ImageNet(decode='device') is for the training split: "
                "validation decodes in the loader workers; set the val "
                "dataloader's dataset.decode='worker'")
        if decode == 'device' and crop_size is not None:
            raise ValueError(
                "ImageNet(decode='device') leaves cropping to the device: "
                'drop train_dataloader.dataset.crop_size and set '
                f'model.data_preprocessor.crop_size={crop_size}')
        crop_size = 224 if crop_size is None else crop_size
        self.decode = decode
        self.data_root = data_root
        self.split = split
        root = osp.join(data_root, split)
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'ImageNet split folder not found: {root}; {LAYOUT}')
        try:
            folder = ImageFolder(root)
        except FileNotFoundError as e:
            raise FileNotFoundError(
                f'no usable class folders in {root} ({e}); {LAYOUT}') from e
        self._classes = tuple(folder.classes)
        # labels are folder indices: differing class sets would silently
        # shift every label of one split against the other
        other = osp.join(data_root, SPLITS[split == 'train'])
        other_classes = tuple(
            sorted(e.name for e in os.scandir(other)
                   if e.is_dir())) if osp.isdir(other) else ()
        if other_classes and other_classes != self._classes:
            raise ValueError(
                f'{root} and {other} hold different class folders, so their '
                f'labels would disagree; {LAYOUT}')
        self.root = root
        # relative paths in a numpy bytes array, not a list of tuples: forked
        # loader workers would copy a million-entry list as refcounts change,
        # and numpy's str_ takes 4 bytes a character
        self._paths = np.array(
            [os.fsencode(osp.relpath(p, root)) for p, _ in folder.samples])
        self._labels = np.array([y for _, y in folder.samples],
                                dtype=np.int64)
        if split == 'train':
            self.transform = v2.RandomResizedCrop(crop_size, antialias=True)
        else:
            self.transform = v2.Compose([
                v2.Resize(round(256 * crop_size / 224), antialias=True),
                v2.CenterCrop(crop_size)
            ])

    def __getitem__(self, index: int) -> dict:
        path = osp.join(self.root, os.fsdecode(self._paths[index]))
        if self.decode == 'device':
            with open(path, 'rb') as f:
                data = f.read()
            if not data:
                raise RuntimeError(
                    f'image file {path} is empty; replace or delete it')
            return dict(inputs=data, data_samples=int(self._labels[index]),
                        img_path=path)
        try:
            image = decode_image(path, mode=ImageReadMode.RGB)
        except RuntimeError as e:
            raise RuntimeError(
                f'cannot decode image {path} ({e}); replace or delete the '
                'file') from e
        return dict(
            inputs=self.transform(image),
            data_samples=int(self._labels[index]))
