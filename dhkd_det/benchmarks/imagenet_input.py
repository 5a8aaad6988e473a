"""ImageNet training input against the step it feeds: images/s of our
pipeline (JPEGs decoded and augmented in batches on the device) and of
torchvision's per-sample PIL loader, on generated ImageNet-layout JPEGs,
and of the R34 -> R18 DHKD step (``tools/benchmarks/data_pipeline.py
--imagenet`` and the GPU check's ``imagenet_input`` part)."""
import os
import os.path as osp

from ..testing.imagenet import write_imagenet
from .data_pipeline import imagenet_rates
from .imagenet_step import distill_step_rate

#: the sizes on a GPU machine and with ``--smoke`` (the tests, on CPU)
FULL = dict(num_images=1000, batch=256, batches=20, warmup=2,
            crop_size=224, long_side=(400, 600), model_batch=256,
            model_size=224, model_iters=10)
SMOKE = dict(num_images=8, batch=4, batches=2, warmup=1, crop_size=32,
             long_side=(40, 64), model_batch=2, model_size=64, model_iters=1)
#: ours over torchvision's loader, on the GPU machine
TARGET_RATIO = 3.0


def write_generated_imagenet(root: str, sizes: dict) -> str:
    """``sizes['num_images']`` JPEGs in 10 class folders of
    ``root/train`` (every 50th grayscale, as ImageNet has some)."""
    write_imagenet(root, num_classes=10,
                   per_class=max(1, sizes['num_images'] // 10),
                   splits=('train', ), long_side=sizes['long_side'],
                   gray_every=50)
    return root


def imagenet_input(work: str, device: str, sizes: dict,
                   workers: int = 16) -> dict:
    """Both loaders' images/s (``workers`` loader workers, at most the CPU
    count), their ratio against ``TARGET_RATIO``, and whether our input
    keeps the R34 -> R18 step (float32) fed."""
    data_root = write_generated_imagenet(osp.join(work, 'imagenet'), sizes)
    workers = min(workers, os.cpu_count())
    rates = imagenet_rates(data_root, device, workers, sizes['batch'],
                           sizes['batches'], sizes['warmup'],
                           sizes['crop_size'])
    step = distill_step_rate(device, sizes['model_batch'],
                             sizes['model_size'], sizes['model_iters'],
                             sizes['warmup'])
    ratio = rates['ours'] / rates['torchvision']
    return dict(
        images=rates['images'], batch=sizes['batch'], workers=workers,
        ours_images_per_s=round(rates['ours'], 1),
        torchvision_images_per_s=round(rates['torchvision'], 1),
        ratio=round(ratio, 2), target_ratio=TARGET_RATIO,
        meets_target=ratio >= TARGET_RATIO,
        r34_r18_step_images_per_s=round(step, 1),
        keeps_step_fed=rates['ours'] >= step)
