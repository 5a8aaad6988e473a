"""ImageNet training images decoded and augmented on the device
(``ImageNet(decode='device')`` + ``JpegClsDataPreprocessor``), checked on
the CPU: the decode is torchvision's, the crops have torchvision's
RandomResizedCrop distribution and resize, flips and mistakes are named."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate
from PIL import Image
from scipy.stats import ks_2samp
from torchvision.io import ImageReadMode, decode_image, decode_jpeg
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from dhkd_det.datasets import (ClsDataPreprocessor, ImageNet,
                               JpegClsDataPreprocessor)
from dhkd_det.datasets.jpeg_decode import decode_rgb
from dhkd_det.datasets.random_resized_crop import (random_resized_crop_boxes,
                                                   resized_crops)
from dhkd_det.testing import write_imagenet

CPU = torch.device('cpu')
SCALE, RATIO = (0.08, 1.0), (3 / 4, 4 / 3)


def jpeg_bytes(tmp_path, image: Image.Image, name: str) -> tuple:
    path = str(tmp_path / name)
    image.save(path, format='JPEG', quality=90)
    with open(path, 'rb') as f:
        return f.read(), path


def device_batch(root, batch: int) -> dict:
    ds = ImageNet(str(root), 'train', decode='device')
    return default_collate([ds[i] for i in range(batch)])


@pytest.fixture(scope='module')
def imagenet_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('imagenet')
    write_imagenet(str(root), num_classes=2, per_class=4, long_side=(40, 64),
                   gray_every=3)
    return root


def test_decode_is_torchvision_cpu_decode(imagenet_root):
    batch = device_batch(imagenet_root, 8)
    images = decode_rgb(batch['inputs'], batch['img_path'], CPU)
    for data, path, image in zip(batch['inputs'], batch['img_path'], images):
        expected = decode_jpeg(torch.frombuffer(bytearray(data),
                                                dtype=torch.uint8),
                               mode=ImageReadMode.RGB)
        assert torch.equal(image, expected)
        # and what ImageNet(decode='worker') decodes
        assert torch.equal(image, decode_image(path, ImageReadMode.RGB))


def test_grayscale_cmyk_and_png_come_out_rgb(tmp_path):
    rgb = Image.fromarray(np.random.default_rng(0).integers(
        0, 256, (24, 32, 3), dtype=np.uint8))
    gray, gray_path = jpeg_bytes(tmp_path, rgb.convert('L'), 'gray.JPEG')
    cmyk, cmyk_path = jpeg_bytes(tmp_path, rgb.convert('CMYK'), 'cmyk.JPEG')
    # ImageNet's train split holds a PNG named .JPEG
    png_path = str(tmp_path / 'png.JPEG')
    rgb.save(png_path, format='PNG')
    with open(png_path, 'rb') as f:
        png = f.read()
    images = decode_rgb([gray, cmyk, png], [gray_path, cmyk_path, png_path],
                        CPU)
    assert [tuple(i.shape) for i in images] == [(3, 24, 32)] * 3
    assert torch.equal(images[0][0], images[0][1])
    assert torch.equal(images[1], decode_image(cmyk_path, ImageReadMode.RGB))
    assert torch.equal(images[2], torch.from_numpy(
        np.asarray(rgb)).permute(2, 0, 1))


def test_corrupt_file_is_named(imagenet_root, tmp_path):
    batch = device_batch(imagenet_root, 3)
    bad = str(tmp_path / 'n01440764_9.JPEG')
    inputs = batch['inputs'] + [b'\xff\xd8 not really a jpeg']
    with pytest.raises(RuntimeError, match='replace or delete') as info:
        decode_rgb(inputs, batch['img_path'] + [bad], CPU)
    assert bad in str(info.value)
    assert batch['img_path'][0] not in str(info.value)


def test_empty_file_is_named(tmp_path):
    write_imagenet(str(tmp_path), num_classes=2, per_class=1,
                   long_side=(16, 16))
    empty = osp.join(tmp_path, 'train', 'n00000001', 'empty.JPEG')
    open(empty, 'wb').close()
    ds = ImageNet(str(tmp_path), 'train', decode='device')
    with pytest.raises(RuntimeError, match='is empty') as info:
        [ds[i] for i in range(len(ds))]
    assert empty in str(info.value)


def torchvision_boxes(height, width, n):
    crop = v2.RandomResizedCrop(8, SCALE, RATIO, antialias=True)
    image = torch.empty(3, height, width, dtype=torch.uint8)
    return np.array([tuple(crop.make_params([image]).values())
                     for _ in range(n)])


@pytest.mark.parametrize('height, width', [(375, 500), (500, 333),
                                           (64, 40)])
def test_crop_boxes_have_torchvision_distribution(height, width):
    n = 4000
    torch.manual_seed(0)
    ours = np.array(random_resized_crop_boxes([(height, width)] * n, SCALE,
                                              RATIO, CPU))
    theirs = torchvision_boxes(height, width, n)
    assert ours.shape == theirs.shape == (n, 4)  # top, left, height, width
    assert (ours[:, 0] + ours[:, 2] <= height).all()
    assert (ours[:, 1] + ours[:, 3] <= width).all()
    assert (ours[:, 2:] > 0).all()
    def statistics(boxes):
        top, left, h, w = boxes.T
        return dict(top=top, left=left, height=h, width=w, area=h * w,
                    log_aspect=np.log(w / h))

    # seeded, so deterministic; scale (0.12, 1) or ratio (0.8, 1.25) fail
    for (name, a), b in zip(statistics(ours).items(),
                            statistics(theirs).values()):
        p = ks_2samp(a, b).pvalue
        assert p > 1e-3, (name, p)
    fallback = lambda b: (b[:, 2] == height) | (b[:, 3] == width)  # noqa
    assert abs(fallback(ours).mean() - fallback(theirs).mean()) < 0.03


def test_no_fitting_try_takes_torchvision_central_crop():
    # no area fraction of 20x1000 has a fitting aspect ratio in 3/4..4/3
    torch.manual_seed(0)
    ours = random_resized_crop_boxes([(20, 1000), (1000, 20)], SCALE, RATIO,
                                     CPU)
    assert ours == [tuple(torchvision_boxes(20, 1000, 1)[0]),
                    tuple(torchvision_boxes(1000, 20, 1)[0])]
    assert ours[0] == (0, 486, 20, 27)


def test_resized_crops_are_torchvision_resized_crop():
    rng = np.random.default_rng(0)
    images = [torch.from_numpy(rng.integers(0, 256, (3, h, w),
                                            dtype=np.uint8))
              for h, w in ((50, 70), (90, 40))]
    boxes = [(3, 5, 40, 60), (10, 0, 30, 40)]
    out = resized_crops(images, boxes, 32)
    assert out.shape == (2, 3, 32, 32) and out.dtype == torch.uint8
    for image, box, crop in zip(images, boxes, out):
        as_float = TF.resized_crop(image.float(), *box, [32, 32],
                                   antialias=True)
        assert torch.equal(crop, as_float.round().clamp(0, 255).byte())
        # torchvision's uint8 kernel rounds its own way: within one level
        as_uint8 = TF.resized_crop(image, *box, [32, 32], antialias=True)
        assert (crop.int() - as_uint8.int()).abs().max() <= 1


def test_preprocessor_crops_flips_and_normalises(tmp_path):
    square = Image.fromarray(np.random.default_rng(0).integers(
        0, 256, (40, 40, 3), dtype=np.uint8))
    files = [jpeg_bytes(tmp_path, square, f'{i}.JPEG') for i in range(32)]
    data = dict(inputs=[f[0] for f in files],
                data_samples=torch.arange(32),
                img_path=[f[1] for f in files])
    # scale and ratio 1: the crop is the whole image, so only flips differ
    pre = JpegClsDataPreprocessor(40, scale=(1, 1), ratio=(1, 1))
    torch.manual_seed(0)
    out = pre(data, training=True)
    assert out['inputs'].shape == (32, 3, 40, 40)
    assert out['inputs'].dtype == torch.float32
    assert torch.equal(out['data_samples'], torch.arange(32))
    decoded = decode_jpeg(torch.frombuffer(bytearray(files[0][0]),
                                           dtype=torch.uint8))
    plain = pre.normalize(decoded[None])[0]
    same = (out['inputs'] == plain).flatten(1).all(1)
    mirrored = (out['inputs'] == plain.flip(-1)).flatten(1).all(1)
    assert bool((same ^ mirrored).all())
    assert 0 < int(same.sum()) < 32


def test_preprocessor_is_reproducible_under_the_seed(imagenet_root):
    batch = device_batch(imagenet_root, 8)
    pre = JpegClsDataPreprocessor(24)
    runs = []
    for _ in range(2):
        torch.manual_seed(3)
        runs.append(pre(batch, training=True)['inputs'])
    assert runs[0].shape == (8, 3, 24, 24)
    assert torch.equal(*runs)
    assert not torch.equal(runs[0], pre(batch, training=True)['inputs'])


def test_half_a_switch_is_named(imagenet_root):
    encoded = device_batch(imagenet_root, 2)
    with pytest.raises(TypeError, match='JpegClsDataPreprocessor'):
        ClsDataPreprocessor()(encoded, training=True)
    decoded = default_collate([
        ImageNet(str(imagenet_root), 'train', crop_size=24)[i]
        for i in range(2)])
    with pytest.raises(TypeError, match="dataset.decode='device'"):
        JpegClsDataPreprocessor(24)(decoded, training=True)
    # validation batches are decoded in the workers and pass through
    val = default_collate([
        ImageNet(str(imagenet_root), 'val', crop_size=24)[i]
        for i in range(2)])
    out = JpegClsDataPreprocessor(24)(val, training=False)
    assert out['inputs'].shape == (2, 3, 24, 24)


def test_bad_arguments_are_named(imagenet_root):
    with pytest.raises(ValueError, match="val dataloader's dataset.decode"):
        ImageNet(str(imagenet_root), 'val', decode='device')
    with pytest.raises(ValueError, match='data_preprocessor.crop_size=160'):
        ImageNet(str(imagenet_root), 'train', crop_size=160, decode='device')
    with pytest.raises(ValueError, match='decode must be one of'):
        ImageNet(str(imagenet_root), 'train', decode='gpu')
    with pytest.raises(ValueError, match='pad_crop=0'):
        JpegClsDataPreprocessor(pad_crop=4)
    with pytest.raises(ValueError, match='scale must be'):
        JpegClsDataPreprocessor(scale=(0.5, 0.1))


def test_generated_imagenet_has_imagenet_sized_files(tmp_path):
    write_imagenet(str(tmp_path), num_classes=2, per_class=3,
                   splits=('train', ))
    files = [osp.join(d, f) for d, _, fs in os.walk(tmp_path) for f in fs]
    assert len(files) == 6
    mean_kb = np.mean([osp.getsize(f) for f in files]) / 1e3
    assert 60 < mean_kb < 160, mean_kb
    sizes = [Image.open(f).size for f in files]
    assert all(300 <= min(s) and max(s) <= 600 for s in sizes), sizes
