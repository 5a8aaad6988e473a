"""Training-input throughput on CPU: our CIFAR pipeline (uint8 tensor data
set, default_collate, batched ClsDataPreprocessor) against torchvision's
per-sample PIL pipeline (RandomCrop(32, padding=4), RandomHorizontalFlip,
ToTensor, Normalize), both through a DataLoader with batch 64 and no workers.

    python tools/benchmarks/data_pipeline.py          # 10,000 random images
    python tools/benchmarks/data_pipeline.py --data-root data/cifar100
    python tools/benchmarks/data_pipeline.py --threads 2
"""
import argparse
import os.path as osp
import pickle
import tempfile
import time

import torch
from mmengine.dataset import default_collate
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from dhkd_det.datasets import CIFAR100, ClsDataPreprocessor
from dhkd_det.testing import write_random_cifar

MEAN = (0.5071, 0.4867, 0.4408)
STD = (0.2675, 0.2565, 0.2761)
BATCH = 64


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


def images_per_second(loader, step, epochs):
    """Runs one warm-up pass over 20 batches, then times ``epochs`` passes."""
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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--data-root', help='folder holding '
                        'cifar-100-python/ (default: random images)')
    parser.add_argument('--num-images', type=int, default=10000)
    parser.add_argument('--epochs', type=int, default=3)
    # DataLoader workers run with one thread, and the per-sample reference
    # cannot use more; more threads for our batched ops pay off on an idle
    # machine but stall on a busy one, where each op waits for every thread
    parser.add_argument('--threads', type=int, default=1,
                        help='torch intra-op threads (default 1)')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        data_root = args.data_root
        if data_root is None:
            write_random_cifar(tmp, num_classes=100,
                               n_train=args.num_images, n_test=1)
            data_root = tmp
        ours = CIFAR100(data_root, 'train', check_md5=args.data_root
                        is not None)
        reference = TorchvisionStyleCIFAR(
            data_root,
            transforms.Compose([
                transforms.RandomCrop(32, padding=4),
                transforms.RandomHorizontalFlip(),
                transforms.ToTensor(),
                transforms.Normalize(MEAN, STD)
            ]))

    torch.manual_seed(0)
    preprocessor = ClsDataPreprocessor(pad_crop=4, flip=True)
    loader = DataLoader(
        ours, BATCH, shuffle=True, num_workers=0, collate_fn=default_collate)
    rate_ours = images_per_second(
        loader, lambda b: preprocessor(b, training=True)['inputs'],
        args.epochs)

    loader = DataLoader(reference, BATCH, shuffle=True, num_workers=0)
    rate_ref = images_per_second(loader, lambda b: b[0], args.epochs)

    print(f'{len(ours)} training images, batch {BATCH}, {args.epochs} '
          f'epochs, torch threads {torch.get_num_threads()}')
    print(f'ours (uint8 tensors + batched ClsDataPreprocessor): '
          f'{rate_ours:10.0f} images/s')
    print(f'torchvision per-sample PIL pipeline:                 '
          f'{rate_ref:10.0f} images/s')
    print(f'ratio: {rate_ours / rate_ref:.1f}x (target >= 2)')


if __name__ == '__main__':
    main()
