"""Training-input throughput against torchvision's per-sample PIL pipeline,
measured in one run (dhkd_det/benchmarks/data_pipeline.py).

CIFAR-100 (default): our uint8 tensor data set + batched ClsDataPreprocessor
against RandomCrop(32, padding=4), RandomHorizontalFlip, ToTensor,
Normalize, both through a DataLoader with batch 64 and no workers.

    python tools/benchmarks/data_pipeline.py          # 10,000 random images
    python tools/benchmarks/data_pipeline.py --data-root data/cifar100
    python tools/benchmarks/data_pipeline.py --threads 2

ImageNet: files read by --workers loader workers and decoded, cropped,
flipped and normalised on --device by JpegClsDataPreprocessor, against
ImageFolder + RandomResizedCrop(224) + flip + ToTensor + Normalize in as
many workers; on generated ImageNet-layout JPEGs (about 500x375, 100 KB)
unless --data-root is given. --model-rate also times the R34 -> R18 DHKD
training step, the rate the input must keep up with.

    python tools/benchmarks/data_pipeline.py --imagenet --device cuda \\
        --model-rate                    # on a GPU machine: 16 workers
    python tools/benchmarks/data_pipeline.py --imagenet --smoke --model-rate
"""
import argparse
import os
import os.path as osp
import sys
import tempfile

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import torch  # noqa: E402

from dhkd_det.benchmarks.data_pipeline import (cifar_rates,  # noqa: E402
                                               imagenet_rates)
from dhkd_det.benchmarks.imagenet_input import (  # noqa: E402
    FULL, SMOKE, write_generated_imagenet)
from dhkd_det.benchmarks.imagenet_step import distill_step_rate  # noqa: E402
from dhkd_det.testing import write_random_cifar  # noqa: E402


def report(name: str, rates: dict, target: str) -> None:
    print(f'ours:        {rates["ours"]:10.0f} images/s')
    print(f'torchvision: {rates["torchvision"]:10.0f} images/s')
    print(f'ratio: {rates["ours"] / rates["torchvision"]:.1f}x ({name}; '
          f'target {target})')


def run_cifar(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_root = args.data_root
        if data_root is None:
            write_random_cifar(tmp, num_classes=100,
                               n_train=args.num_images or 10000, n_test=1)
            data_root = tmp
        rates = cifar_rates(data_root, 64, args.epochs,
                            check_md5=args.data_root is not None)
    print(f'{rates["images"]} training images, batch 64, {args.epochs} '
          f'epochs, torch threads {torch.get_num_threads()}')
    report('CIFAR, no workers', rates, '>= 2')


def run_imagenet(args) -> None:
    sizes = dict(SMOKE if args.smoke else FULL)
    if args.batch:
        sizes.update(batch=args.batch, model_batch=args.batch)
    sizes['num_images'] = args.num_images or sizes['num_images']
    workers = min(args.workers, os.cpu_count())
    with tempfile.TemporaryDirectory() as tmp:
        data_root = args.data_root
        if data_root is None:
            data_root = write_generated_imagenet(tmp, sizes)
        rates = imagenet_rates(data_root, args.device, workers,
                               sizes['batch'], sizes['batches'],
                               sizes['warmup'], sizes['crop_size'])
    print(f'{rates["images"]} training images, batch {sizes["batch"]}, '
          f'{sizes["batches"]} timed batches after {sizes["warmup"]}, '
          f'{workers} workers, device {args.device}, torch threads '
          f'{torch.get_num_threads()}')
    report('ImageNet', rates, '>= 3 on a GPU machine')
    if args.model_rate:
        rate = distill_step_rate(args.device, sizes['model_batch'],
                                 sizes['model_size'], sizes['model_iters'],
                                 sizes['warmup'])
        print(f'R34 -> R18 DHKD step (batch {sizes["model_batch"]} at '
              f'{sizes["model_size"]}, float32): {rate:10.0f} images/s')
        print(f'input / step: {rates["ours"] / rate:.2f} (ours), '
              f'{rates["torchvision"] / rate:.2f} (torchvision); >= 1 '
              'keeps the step fed')


def main():
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()),
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('--imagenet', action='store_true',
                        help='the ImageNet pipelines (default: CIFAR)')
    parser.add_argument('--data-root', help='CIFAR: folder holding '
                        'cifar-100-python/; ImageNet: folder holding train/ '
                        '(default: generated images)')
    parser.add_argument('--num-images', type=int, help='generated images '
                        '(CIFAR 10,000; ImageNet 1,000, 8 with --smoke)')
    parser.add_argument('--epochs', type=int, default=3, help='CIFAR')
    # DataLoader workers run with one thread, and the per-sample reference
    # cannot use more; more threads for our batched ops pay off on an idle
    # machine but stall on a busy one, where each op waits for every thread
    parser.add_argument('--threads', type=int, default=1,
                        help='torch intra-op threads (default 1)')
    parser.add_argument('--device', default='cpu', help='ImageNet: where '
                        'ours decodes and augments (cuda on a GPU)')
    parser.add_argument('--workers', type=int, default=16,
                        help='ImageNet loader workers, at most the CPU count')
    parser.add_argument('--batch', type=int, help='ImageNet batch of the '
                        'input and of the step (256)')
    parser.add_argument('--model-rate', action='store_true',
                        help='ImageNet: also time the R34 -> R18 DHKD step')
    parser.add_argument('--smoke', action='store_true',
                        help='ImageNet: tiny sizes (the tests)')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    run_imagenet(args) if args.imagenet else run_cifar(args)


if __name__ == '__main__':
    main()
