"""CIFAR-100 in its official python-pickle layout, held in memory as one
uint8 tensor so that a sample costs a view, not a decode."""
import hashlib
import os
import os.path as osp
import pickle
import struct
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.registry import DATASETS
from torch.utils.data import get_worker_info
from torchvision.datasets import CIFAR100 as _TorchvisionCIFAR100

from .cifar_fetch import FOLDER, fetch_cifar100
from .labelled import LabelledDataset

META_FILE = _TorchvisionCIFAR100.meta['filename']
OFFICIAL_MD5 = dict(_TorchvisionCIFAR100.train_list +
                    _TorchvisionCIFAR100.test_list)
SPLITS = ('train', 'test')
BATCH_LABELS = dict(train=b'training batch 1 of 1',
                    test=b'testing batch 1 of 1')
IMAGE_SHAPE = (3, 32, 32)
LAYOUT = (f'expected layout: <data_root>/{FOLDER}/{{train,test,meta}} '
          '(the python version of CIFAR-100, '
          'https://www.cs.toronto.edu/~kriz/cifar.html)')
LAYOUT_FIX = ('set train_dataloader.dataset.data_root (and the val/test '
              'dataloaders) to the folder that holds '
              f'{FOLDER}/, or set download=True (the default) to fetch the '
              'official files')


@DATASETS.register_module()
class CIFAR100(LabelledDataset):
    """CIFAR-100 (or any data set written in its layout, e.g. by
    :func:`write_cifar`).

    A sample is ``dict(inputs=uint8 tensor (3, 32, 32), data_samples=int)``;
    ``default_collate`` turns a batch into ``inputs`` uint8 (B, 3, 32, 32) and
    ``data_samples`` LongTensor (B,). Augmentation and normalisation are left
    to :class:`ClsDataPreprocessor`, which does them batched on the device.

    With ``device`` set the whole split lives on that device (CIFAR-100's
    training set is 150 MB as uint8) and the DataLoader fetches each batch
    with one gather there (``__getitems__``): no worker processes, no
    per-sample Python, no host-to-device copy. Such a loader needs
    ``num_workers=0`` (the tensors belong to the main process),
    ``persistent_workers=False`` and ``collate_fn=dict(type=
    'pass_through_collate')`` (the batch is ready).

    The files are pickles, so only load data you trust.

    Args:
        data_root (str): folder holding ``cifar-100-python/``.
        split (str): 'train' or 'test'.
        download (bool): fetch the official release into ``data_root`` if
            the split or meta file is missing (default: True, so that the
            quick start runs on a fresh machine; without internet access
            the error names the archive to place in ``data_root``, see
            :func:`fetch_cifar100`).
        check_md5 (bool): require the split file to be the official release;
            set False for data of your own in the same layout.
        device (str, optional): keep images and labels on this device
            ('cuda' is the current CUDA device; 'cpu' runs the same batched
            path on the host) and fetch whole batches; None (default): per
            sample, for DataLoader workers and ``default_collate``.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 download: bool = True,
                 check_md5: bool = True,
                 device: Optional[str] = None):
        if split not in SPLITS:
            raise ValueError(f'CIFAR100 split must be one of {SPLITS}, '
                             f'got {split!r}')
        self.data_root = data_root
        self.split = split
        folder = osp.join(data_root, FOLDER)
        split_file = osp.join(folder, split)
        meta_file = osp.join(folder, META_FILE)
        if download and not (osp.isfile(split_file) and
                             osp.isfile(meta_file)):
            fetch_cifar100(data_root)
        for path in (split_file, meta_file):
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'CIFAR-100 file not found: {path}; {LAYOUT}; '
                    f'{LAYOUT_FIX}')
        if check_md5:
            _check_md5(split_file, OFFICIAL_MD5[split])
        self._classes = _read_class_names(meta_file)
        self._images, self._labels = _read_split(split_file,
                                                 len(self._classes))
        self.device = None if device is None else torch.device(device)
        if self.device is not None:
            self._images = self._images.to(self.device)
            self._labels = torch.from_numpy(self._labels).to(self.device)

    def __getitem__(self, index: int) -> dict:
        return dict(
            inputs=self._images[index],
            data_samples=int(self._labels[index]))

    def __getitems__(self, indices: List[int]):
        """What torch's DataLoader fetches for one batch: the list of samples
        (per-sample mode), or with ``device`` the collated batch
        ``dict(inputs=uint8 (B, 3, 32, 32), data_samples=LongTensor (B,))``
        on the device, equal to ``default_collate`` of the samples."""
        if self.device is None:
            return [self[i] for i in indices]
        if get_worker_info() is not None:
            raise RuntimeError(
                f'CIFAR100(device={str(self.device)!r}) keeps the data on the '
                'device and must be read in the main process: set '
                'num_workers=0 and persistent_workers=False in its dataloader '
                '(or drop dataset.device for worker processes)')
        index = torch.as_tensor(indices, dtype=torch.long)
        if self.device.type == 'cuda':
            # a pageable host-to-device copy would wait for the GPU to drain
            # its queue; a pinned, non-blocking one is queued like a kernel
            index = index.pin_memory().to(self.device, non_blocking=True)
        return dict(inputs=self._images.index_select(0, index),
                    data_samples=self._labels.index_select(0, index))


def _check_md5(path: str, expected: str) -> None:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        raise ValueError(
            f'{path} has md5 {digest.hexdigest()}, not the official CIFAR-100 '
            f'md5 {expected}: the file is corrupt or not the official '
            'release. Delete it and run again to fetch the official file '
            '(download=True, the default), or, for non-official data in '
            'the same layout, set check_md5=False (config key '
            'train_dataloader.dataset.check_md5=False, and likewise for the '
            'val/test dataloaders)')


def _read_pickle(path: str) -> dict:
    """Returns the file's dict with str keys (official files, written by
    Python 2, unpickle with bytes keys; a user's may use str keys)."""
    try:
        with open(path, 'rb') as f:
            content = pickle.load(f, encoding='bytes')
    # a damaged pickle can fail with almost any exception type
    except Exception as e:
        raise ValueError(
            f'{path} is not a readable CIFAR pickle '
            f'({type(e).__name__}: {e}); the file is truncated or corrupt: '
            'replace it with an intact copy') from e
    if not isinstance(content, dict):
        raise ValueError(f'{path} holds a {type(content).__name__}, expected '
                         f'the dict of a CIFAR pickle; {LAYOUT}')
    return {
        k.decode('latin1') if isinstance(k, bytes) else k: v
        for k, v in content.items()
    }


def _require_keys(path: str, content: dict, keys: Sequence[str]) -> None:
    missing = [k for k in keys if k not in content]
    if missing:
        raise ValueError(
            f'{path} lacks the key(s) {missing} (found {sorted(content)}); '
            'a CIFAR-100 split file has data and fine_labels, the meta file '
            'has fine_label_names')


def _read_class_names(path: str) -> Tuple[str, ...]:
    content = _read_pickle(path)
    _require_keys(path, content, ['fine_label_names'])
    names = content['fine_label_names']
    if (not isinstance(names, (list, tuple)) or not names
            or not all(isinstance(n, (bytes, str)) for n in names)):
        raise ValueError(f'{path}: fine_label_names must be a non-empty list '
                         'of strings')
    return tuple(n.decode() if isinstance(n, bytes) else n for n in names)


def _read_split(path: str,
                num_classes: int) -> Tuple[torch.Tensor, np.ndarray]:
    """Returns images uint8 (N, 3, 32, 32) and labels int64 (N,)."""
    content = _read_pickle(path)
    _require_keys(path, content, ['data', 'fine_labels'])
    data = content['data']
    if (not isinstance(data, np.ndarray) or data.dtype != np.uint8
            or data.ndim != 2 or data.shape[1] != np.prod(IMAGE_SHAPE)):
        desc = (f'{data.dtype} array of shape {data.shape}' if isinstance(
            data, np.ndarray) else type(data).__name__)
        raise ValueError(f'{path}: data must be a uint8 array of shape '
                         f'(N, 3072), got a {desc}')
    if not len(data):
        raise ValueError(
            f'{path} holds no images (data has shape {data.shape}): a data '
            'set needs at least one; write the split\'s images into it, or '
            'point data_root at the folder of the complete data')
    labels = np.asarray(content['fine_labels'])
    # an empty list reads as float64: the count check below names it
    if labels.ndim != 1 or labels.size and not np.issubdtype(
            labels.dtype, np.integer):
        raise ValueError(f'{path}: fine_labels must be a list of integers, '
                         f'got {labels.dtype} values of shape {labels.shape}')
    if len(labels) != len(data):
        raise ValueError(f'{path}: {len(labels)} fine_labels for '
                         f'{len(data)} images')
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if bad.size:
        raise ValueError(
            f'{path}: label {labels[bad[0]]} at index {bad[0]} is outside '
            f'0..{num_classes - 1} ({num_classes} classes in the meta file '
            f'{osp.join(osp.dirname(path), META_FILE)})')
    # from_numpy shares memory; copy only if the unpickled array is read-only
    images = np.require(
        data.reshape(-1, *IMAGE_SHAPE), requirements=['C', 'W'])
    return torch.from_numpy(images), labels.astype(np.int64)


def write_cifar(root: str, train: Tuple[np.ndarray, Sequence[int]],
                test: Tuple[np.ndarray, Sequence[int]],
                class_names: Sequence[str]) -> str:
    """Writes ``root/cifar-100-python/{train,test,meta}`` exactly as the
    official CIFAR-100 release lays them out (pickled dicts with bytes keys;
    ``data`` uint8 (N, 3072) holding each image's R, G, B planes row-major).
    Coarse labels are all 0 under one coarse class.

    Args:
        train, test: (images uint8 (N, 32, 32, 3) HWC, labels int (N,)).
        class_names: the C fine class names; labels lie in 0..C-1.

    Returns:
        str: the ``cifar-100-python`` folder written.
    """
    folder = osp.join(root, FOLDER)
    os.makedirs(folder, exist_ok=True)
    names = [str(n) for n in class_names]
    for split, (images, labels) in zip(SPLITS, (train, test)):
        images, labels = np.asarray(images), np.asarray(labels)
        if images.dtype != np.uint8 or images.shape[1:] != (32, 32, 3):
            raise ValueError(f'write_cifar: {split} images must be uint8 '
                             f'(N, 32, 32, 3), got {images.dtype} '
                             f'{images.shape}')
        if (labels.shape != images.shape[:1] or labels.size and
                (labels.min() < 0 or labels.max() >= len(names))):
            raise ValueError(
                f'write_cifar: {split} needs {len(images)} labels in '
                f'0..{len(names) - 1}, got shape {labels.shape}')
        fine = [int(label) for label in labels]
        _dump(
            osp.join(folder, split), {
                b'filenames':
                [f'{names[y]}_s_{i:06d}.png'.encode() for i, y in
                 enumerate(fine)],
                b'batch_label': BATCH_LABELS[split],
                b'fine_labels': fine,
                b'coarse_labels': [0] * len(fine),
                b'data': np.ascontiguousarray(
                    images.transpose(0, 3, 1, 2)).reshape(
                        len(images), int(np.prod(IMAGE_SHAPE))),
            })
    _dump(
        osp.join(folder, META_FILE), {
            b'fine_label_names': [n.encode() for n in names],
            b'coarse_label_names': [b'all'],
        })
    return folder


class _Python2Pickler(pickle._Pickler):
    """Writes ``bytes`` as Python 2's ``str`` (the BINSTRING opcodes), as
    the official CIFAR pickles hold their keys, file names and image data:
    read back with ``encoding='bytes'`` they are bytes, with
    ``encoding='latin1'`` (torchvision's reader, the official instructions)
    str, so every CIFAR reader takes our files as it takes the official
    ones.  Python 3's own pickles hold bytes as bytes whatever the reader's
    encoding, which torchvision's reader cannot index (``entry['data']``).
    """
    dispatch = dict(pickle._Pickler.dispatch)

    def _save_python2_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack('<i', len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = _save_python2_str


def _dump(path: str, content: Dict[bytes, object]) -> None:
    with open(path, 'wb') as f:
        _Python2Pickler(f, protocol=2).dump(content)
