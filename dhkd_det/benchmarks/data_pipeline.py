"""Training-input throughput of our pipelines against torchvision's
per-sample PIL pipelines (tools/benchmarks/data_pipeline.py), measured in
one run: CIFAR-100 (uint8 tensor data set + batched ``ClsDataPreprocessor``)
and ImageNet (files read by workers, decoded and augmented on the device by
``JpegClsDataPreprocessor``)."""
import os.path as osp
import pickle
import time

import torch
from mmengine.dataset import default_collate
from PIL import Image
from torch.utils.data import DataLoader, Dataset, RandomSampler
from torchvision import transforms
from torchvision.datasets import ImageFolder

from ..datasets import CIFAR100, ClsDataPreprocessor, ImageNet
from ..datasets import JpegClsDataPreprocessor
from .timers import synchronize

CIFAR_MEAN = (0.5071, 0.4867, 0.4408)
CIFAR_STD = (0.2675, 0.2565, 0.2761)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class TorchvisionStyleCIFAR(Dataset):
    """torchvision.datasets.CIFAR100's loading and __getitem__, minus its md5
    check and with bytes keys accepted, so that it reads the random data set
    too."""

    def __init__(self, data_root, transform):
        with open(osp.join(data_root, 'cifar-100-python', 'train'), 'rb') as f:
            entry = pickle.load(f, encoding='latin1')
        keys = {k.decode() if isinstance(k, bytes) else k: k for k in entry}
        self.images = entry[keys['data']].reshape(-1, 3, 32, 32).transpose(
            0, 2, 3, 1)
        self.labels = entry[keys['fine_labels']]
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        image = Image.fromarray(self.images[index])
        return self.transform(image), self.labels[index]


def epochs_per_second(loader, step, epochs: int) -> float:
    """Images/s of ``epochs`` passes over ``loader``, each batch through
    ``step`` (returning the batch's images), after a warm-up of 21
    batches."""
    for i, batch in enumerate(loader):
        step(batch)
        if i == 20:
            break
    count = 0
    start = time.perf_counter()
    for _ in range(epochs):
        for batch in loader:
            count += len(step(batch))
    return count / (time.perf_counter() - start)


def cifar_rates(data_root: str, batch: int, epochs: int,
                check_md5: bool) -> dict:
    """Images/s of our CIFAR training input and of torchvision's
    (RandomCrop(32, padding=4), RandomHorizontalFlip, ToTensor, Normalize),
    both through a DataLoader with no workers."""
    ours = CIFAR100(data_root, 'train', check_md5=check_md5)
    reference = TorchvisionStyleCIFAR(
        data_root,
        transforms.Compose([
            transforms.RandomCrop(32, padding=4),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(CIFAR_MEAN, CIFAR_STD)
        ]))
    torch.manual_seed(0)
    preprocessor = ClsDataPreprocessor(CIFAR_MEAN, CIFAR_STD, pad_crop=4)
    loader = DataLoader(ours, batch, shuffle=True, num_workers=0,
                        collate_fn=default_collate)
    rate_ours = epochs_per_second(
        loader, lambda b: preprocessor(b, training=True)['inputs'], epochs)
    loader = DataLoader(reference, batch, shuffle=True, num_workers=0)
    rate_ref = epochs_per_second(loader, lambda b: b[0], epochs)
    return dict(images=len(ours), ours=rate_ours, torchvision=rate_ref)


def batches_per_second(loader, step, warmup: int, device: str) -> float:
    """Images/s of the batches of ``loader`` after the first ``warmup``
    (worker start-up, first calls), each through ``step`` (returning the
    batch's images on ``device``), the device synchronised at both ends."""
    batches = iter(loader)
    for _ in range(warmup):
        step(next(batches))
    synchronize(device)
    count = 0
    start = time.perf_counter()
    for batch in batches:
        count += len(step(batch))
    synchronize(device)
    return count / (time.perf_counter() - start)


def imagenet_rates(data_root: str, device: str, workers: int, batch: int,
                   batches: int, warmup: int, crop_size: int = 224) -> dict:
    """Images/s of ImageNet training input from ``data_root/train``, each
    batch ending as normalised float32 crops on ``device``:

    - ``torchvision``: ImageFolder (PIL decode) + RandomResizedCrop +
      RandomHorizontalFlip + ToTensor + Normalize per sample in ``workers``
      loader workers, the batch then copied to the device (from pinned
      memory on a GPU);
    - ``ours``: ``ImageNet(decode='device')`` (workers read the files) and
      ``JpegClsDataPreprocessor`` on ``device`` (batched decode, crops,
      flip, normalisation).

    Both draw ``(warmup + batches) * batch`` images with replacement, so the
    set may be smaller than that; both read it from the page cache.
    """
    samples = (warmup + batches) * batch
    torch.manual_seed(0)

    def loader(dataset, **kwargs):
        return DataLoader(
            dataset, batch, num_workers=workers,
            sampler=RandomSampler(dataset, replacement=True,
                                  num_samples=samples),
            pin_memory=device == 'cuda', **kwargs)

    reference = ImageFolder(
        osp.join(data_root, 'train'),
        transforms.Compose([
            transforms.RandomResizedCrop(crop_size),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)
        ]))
    rate_ref = batches_per_second(
        loader(reference),
        lambda b: b[0].to(device, non_blocking=True), warmup, device)

    preprocessor = JpegClsDataPreprocessor(
        crop_size, mean=IMAGENET_MEAN, std=IMAGENET_STD).to(device)
    ours = ImageNet(data_root, 'train', decode='device')
    rate_ours = batches_per_second(
        loader(ours, collate_fn=default_collate),
        lambda b: preprocessor(b, training=True)['inputs'], warmup, device)
    return dict(images=len(ours), ours=rate_ours, torchvision=rate_ref)
