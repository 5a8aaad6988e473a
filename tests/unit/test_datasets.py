import os
import os.path as osp
import pickle
import shutil

import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate, pseudo_collate
from mmengine.registry import DATASETS, MODELS
from PIL import Image

from conftest import make_cifar
from dhkd_det.datasets import (CIFAR100, ClsDataPreprocessor, ImageNet,
                               pass_through_collate)

MEAN = torch.tensor((0.5071, 0.4867, 0.4408)).view(1, 3, 1, 1)
STD = torch.tensor((0.2675, 0.2565, 0.2761)).view(1, 3, 1, 1)


def _split_file(root, split='train'):
    return osp.join(root, 'cifar-100-python', split)


def _load(path):
    with open(path, 'rb') as f:
        return pickle.load(f, encoding='bytes')


def _dump(path, content):
    with open(path, 'wb') as f:
        pickle.dump(content, f)


# --- CIFAR100 ---------------------------------------------------------------


@pytest.mark.parametrize('split', ['train', 'test'])
def test_cifar_round_trip(tmp_path, split):
    train, test, names = make_cifar(tmp_path)
    images, labels = train if split == 'train' else test
    ds = DATASETS.build(
        dict(type='CIFAR100', data_root=str(tmp_path), split=split,
             check_md5=False))
    assert isinstance(ds, CIFAR100)
    assert len(ds) == len(labels)
    assert ds.metainfo['classes'] == tuple(names) and ds.num_classes == 10
    batch = default_collate([ds[i] for i in range(len(ds))])
    assert batch['inputs'].dtype == torch.uint8
    assert batch['data_samples'].dtype == torch.long
    assert torch.equal(batch['inputs'],
                       torch.from_numpy(images).permute(0, 3, 1, 2))
    assert batch['data_samples'].tolist() == labels.tolist()


def test_write_cifar_uses_the_official_layout(tmp_path):
    (images, labels), _, names = make_cifar(tmp_path)
    assert sorted(os.listdir(osp.join(tmp_path, 'cifar-100-python'))) == [
        'meta', 'test', 'train'
    ]
    train = _load(_split_file(tmp_path))
    assert set(train) == {
        b'filenames', b'batch_label', b'fine_labels', b'coarse_labels',
        b'data'
    }
    assert train[b'data'].dtype == np.uint8
    assert train[b'data'].shape == (64, 3072)
    # official rows are the R, G, B planes of one image, each row-major
    assert np.array_equal(train[b'data'][5, :1024],
                          images[5, :, :, 0].ravel())
    assert np.array_equal(train[b'data'][5, 2048:],
                          images[5, :, :, 2].ravel())
    assert train[b'fine_labels'] == labels.tolist()
    assert all(type(y) is int for y in train[b'fine_labels'])
    assert len(train[b'coarse_labels']) == len(train[b'filenames']) == 64
    meta = _load(osp.join(tmp_path, 'cifar-100-python', 'meta'))
    assert set(meta) == {b'fine_label_names', b'coarse_label_names'}
    assert meta[b'fine_label_names'] == [n.encode() for n in names]


def test_write_cifar_is_read_by_torchvision_as_the_official_files(
        tmp_path, monkeypatch):
    """The official pickles hold Python 2 str: torchvision reads them with
    encoding='latin1' and indexes str keys.  Ours must read the same way
    (only the md5 check of the official release is switched off)."""
    import torchvision
    (images, labels), _, names = make_cifar(tmp_path)
    monkeypatch.setattr(torchvision.datasets.cifar, 'check_integrity',
                        lambda *args, **kwargs: True)
    data = torchvision.datasets.CIFAR100(str(tmp_path), train=True,
                                         download=False)
    assert data.targets == labels.tolist()
    assert np.array_equal(data.data, images)
    assert data.classes == list(names)
    with open(_split_file(tmp_path), 'rb') as f:
        latin1 = pickle.load(f, encoding='latin1')
    assert set(latin1) == {'filenames', 'batch_label', 'fine_labels',
                           'coarse_labels', 'data'}


def test_cifar_md5_rejects_unofficial_data(cifar_root):
    with pytest.raises(ValueError) as info:
        CIFAR100(cifar_root, 'train')
    message = str(info.value)
    assert _split_file(cifar_root) in message
    assert 'train_dataloader.dataset.check_md5=False' in message
    assert len(CIFAR100(cifar_root, 'train', check_md5=False)) == 64


@pytest.mark.parametrize('missing', ['train', 'meta', 'folder'])
def test_cifar_missing_files(cifar_root, missing):
    folder = osp.join(cifar_root, 'cifar-100-python')
    if missing == 'folder':
        root = osp.join(cifar_root, 'elsewhere')
        path = osp.join(root, 'cifar-100-python', 'train')
    else:
        root, path = cifar_root, osp.join(folder, missing)
        os.remove(path)
    with pytest.raises(FileNotFoundError) as info:
        CIFAR100(root, 'train', check_md5=False, download=False)
    message = str(info.value)
    assert path in message
    assert 'cifar-100-python/{train,test,meta}' in message
    assert 'train_dataloader.dataset.data_root' in message
    assert 'set download=True' in message  # how to fetch the official files


def test_cifar_empty_split_is_named(tmp_path):
    make_cifar(tmp_path, n_test=0)
    path = osp.join(tmp_path, 'cifar-100-python', 'test')
    with pytest.raises(ValueError) as info:
        CIFAR100(str(tmp_path), 'test', check_md5=False)
    assert str(info.value).startswith(
        f'{path} holds no images (data has shape (0, 3072))')
    assert 'fine_labels' not in str(info.value)


def test_cifar_labels_missing_for_the_images(cifar_root):
    path = _split_file(cifar_root)
    content = _load(path)
    content[b'fine_labels'] = []
    _dump(path, content)
    with pytest.raises(ValueError, match='0 fine_labels for 64 images'):
        CIFAR100(cifar_root, 'train', check_md5=False)


def _truncate(path):
    with open(path, 'rb') as f:
        content = f.read()
    with open(path, 'wb') as f:
        f.write(content[:len(content) // 2])


def _garbage(path):
    with open(path, 'wb') as f:
        f.write(b'this is not a pickle at all' * 10)


def _drop_labels(path):
    content = _load(path)
    del content[b'fine_labels']
    _dump(path, content)


def _label_out_of_range(path):
    content = _load(path)
    content[b'fine_labels'][3] = 10
    _dump(path, content)


def _wrong_shape(path):
    content = _load(path)
    content[b'data'] = content[b'data'][:, :1000]
    _dump(path, content)


def _not_a_dict(path):
    _dump(path, [1, 2, 3])


@pytest.mark.parametrize('damage, words', [
    (_truncate, 'truncated or corrupt'),
    (_garbage, 'truncated or corrupt'),
    (_drop_labels, 'fine_labels'),
    (_label_out_of_range, 'label 10 at index 3'),
    (_wrong_shape, '(N, 3072)'),
    (_not_a_dict, 'expected the dict'),
])
def test_cifar_corrupt_split_file(cifar_root, damage, words):
    path = _split_file(cifar_root)
    damage(path)
    with pytest.raises(ValueError) as info:
        CIFAR100(cifar_root, 'train', check_md5=False)
    assert path in str(info.value) and words in str(info.value)


def test_cifar_corrupt_meta_file(cifar_root):
    path = osp.join(cifar_root, 'cifar-100-python', 'meta')
    _dump(path, {b'coarse_label_names': [b'all']})
    with pytest.raises(ValueError, match='fine_label_names') as info:
        CIFAR100(cifar_root, 'test', check_md5=False)
    assert path in str(info.value)


def test_cifar_rejects_unknown_split(cifar_root):
    with pytest.raises(ValueError, match="'val'"):
        CIFAR100(cifar_root, 'val', check_md5=False)


# --- CIFAR100(device=...): the batch fetched whole -------------------------


def _loader(dataset, collate_fn, order, batch_size=8, num_workers=0):
    return torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, sampler=order, num_workers=num_workers,
        collate_fn=collate_fn)


def test_cifar_on_device_batches_equal_the_per_sample_path(cifar_root):
    per_sample = CIFAR100(cifar_root, 'train', check_md5=False)
    on_device = CIFAR100(cifar_root, 'train', check_md5=False, device='cpu')
    order = torch.randperm(len(per_sample),
                           generator=torch.Generator().manual_seed(0)).tolist()
    batches = list(zip(_loader(per_sample, default_collate, order),
                       _loader(on_device, pass_through_collate, order)))
    assert len(batches) == len(per_sample) // 8
    for expected, got in batches:
        assert set(got) == {'inputs', 'data_samples'}
        assert got['inputs'].dtype == torch.uint8
        assert got['data_samples'].dtype == torch.long
        assert torch.equal(got['inputs'], expected['inputs'])
        assert torch.equal(got['data_samples'], expected['data_samples'])
    # the preprocessor takes the batch as it is
    out = ClsDataPreprocessor()(batches[0][1], training=True)
    assert out['inputs'].shape == (8, 3, 32, 32)


def test_cifar_on_device_keeps_per_sample_access(cifar_root):
    per_sample = CIFAR100(cifar_root, 'test', check_md5=False)
    on_device = CIFAR100(cifar_root, 'test', check_md5=False, device='cpu')
    assert len(on_device) == len(per_sample)
    assert on_device.metainfo == per_sample.metainfo
    a, b = per_sample[3], on_device[3]
    assert torch.equal(a['inputs'], b['inputs'])
    assert a['data_samples'] == b['data_samples']


def test_cifar_on_device_refuses_worker_processes(cifar_root):
    on_device = CIFAR100(cifar_root, 'train', check_md5=False, device='cpu')
    loader = _loader(on_device, pass_through_collate, list(range(16)),
                     num_workers=1)
    with pytest.raises(RuntimeError, match='num_workers=0'):
        next(iter(loader))


def test_pass_through_collate_needs_a_ready_batch(cifar_root):
    per_sample = CIFAR100(cifar_root, 'train', check_md5=False)
    loader = _loader(per_sample, pass_through_collate, list(range(8)))
    with pytest.raises(TypeError, match='default_collate'):
        next(iter(loader))


# --- ClsDataPreprocessor ----------------------------------------------------


def _batch(n, seed=0, size=32):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, size, size), generator=g,
                           dtype=torch.uint8)
    return dict(inputs=images, data_samples=torch.arange(n) % 10)


def test_preprocessor_eval_is_exact_normalisation():
    pre = MODELS.build(dict(type='ClsDataPreprocessor'))
    assert isinstance(pre, ClsDataPreprocessor)
    data = _batch(8)
    out = pre(data, training=False)
    expected = (data['inputs'].float() / 255 - MEAN) / STD
    assert out['inputs'].dtype == torch.float32
    torch.testing.assert_close(out['inputs'], expected, rtol=0, atol=1e-6)
    assert out['data_samples'].dtype == torch.long
    assert torch.equal(out['data_samples'], data['data_samples'])
    # float inputs are already in 0-1 scale
    floats = pre(dict(inputs=data['inputs'].float() / 255,
                      data_samples=data['data_samples']))
    torch.testing.assert_close(floats['inputs'], expected, rtol=0, atol=1e-6)


def test_preprocessor_accepts_pseudo_collate_lists():
    pre = ClsDataPreprocessor()
    data = _batch(4)
    samples = [dict(inputs=x, data_samples=int(y))
               for x, y in zip(data['inputs'], data['data_samples'])]
    for training in (False, True):
        torch.manual_seed(1)
        stacked = pre(data, training)
        torch.manual_seed(1)
        listed = pre(pseudo_collate(samples), training)
        assert torch.equal(stacked['inputs'], listed['inputs'])
        assert torch.equal(stacked['data_samples'], listed['data_samples'])


def _all_crops(image, pad):
    """Every crop and flip of one zero-padded (3, H, W) image:
    (2 * (2 * pad + 1) ** 2, 3, H, W)."""
    _, h, w = image.shape
    padded = torch.nn.functional.pad(image, (pad, ) * 4)
    crops = [padded[:, y:y + h, x:x + w]
             for y in range(2 * pad + 1) for x in range(2 * pad + 1)]
    crops = torch.stack(crops)
    return torch.cat([crops, crops.flip(-1)])


def test_preprocessor_train_outputs_are_padded_crops_and_flips():
    pre = ClsDataPreprocessor(pad_crop=4, flip=True)
    data = _batch(32)
    torch.manual_seed(0)
    out = pre(data, training=True)['inputs']
    for image, result in zip(data['inputs'], out):
        candidates = (_all_crops(image, 4).float() / 255 - MEAN) / STD
        matches = (candidates - result).abs().flatten(1).amax(1) < 1e-6
        assert matches.sum() == 1


def test_preprocessor_offsets_and_flips_are_uniform():
    pre = ClsDataPreprocessor(pad_crop=4, flip=True)
    n, size = 9000, 32
    # channel 0 holds column + 1, channel 1 row + 1: the centre pixels of an
    # output then reveal its offsets and flip
    ramp = torch.arange(1, size + 1, dtype=torch.uint8)
    image = torch.stack([ramp.expand(size, size),
                         ramp[:, None].expand(size, size),
                         torch.ones(size, size, dtype=torch.uint8)])
    torch.manual_seed(0)
    out = pre.augment(image.expand(n, 3, size, size))
    flipped = out[:, 0, 16, 17] < out[:, 0, 16, 16]
    offset_y = out[:, 1, 16, 16].long() - 1 - 16 + 4
    offset_x = out[:, 0, 16, 16].long() - 1 - 16 + 4 + flipped.long()
    assert 0.46 < flipped.float().mean() < 0.54
    for offsets in (offset_y, offset_x):
        counts = torch.bincount(offsets, minlength=9)
        assert len(counts) == 9
        assert counts.min() > 800 and counts.max() < 1200


def test_preprocessor_respects_torch_seed():
    pre = ClsDataPreprocessor()
    data = _batch(16)
    runs = []
    for seed in (3, 3, 4):
        torch.manual_seed(seed)
        runs.append(pre(data, training=True)['inputs'])
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])


@pytest.mark.parametrize('pad_crop', [0, None])
def test_preprocessor_without_augmentation(pad_crop):
    pre = ClsDataPreprocessor(pad_crop=pad_crop, flip=False)
    data = _batch(4)
    assert torch.equal(pre(data, True)['inputs'], pre(data, False)['inputs'])


def test_preprocessor_flip_only_keeps_size():
    pre = ClsDataPreprocessor(pad_crop=0, flip=True)
    data = _batch(64, size=24)
    out = pre.augment(data['inputs'])
    same = (out == data['inputs']).flatten(1).all(1)
    mirrored = (out == data['inputs'].flip(-1)).flatten(1).all(1)
    assert bool((same ^ mirrored).all())
    assert 0 < same.sum() < 64


# --- ImageNet ---------------------------------------------------------------


def _write_imagenet(root):
    rng = np.random.default_rng(0)
    sizes = [(48, 40), (30, 50), (64, 64)]
    for split in ('train', 'val'):
        for wnid in ('n01440764', 'n01443537'):
            folder = osp.join(root, split, wnid)
            os.makedirs(folder)
            for i, (w, h) in enumerate(sizes):
                pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
                image = Image.fromarray(pixels)
                # ImageNet holds some grayscale JPEGs
                image = image.convert('L') if i == 2 else image
                image.save(osp.join(folder, f'{wnid}_{i}.JPEG'))


@pytest.mark.parametrize('split', ['train', 'val'])
def test_imagenet_loads_folders(tmp_path, split):
    _write_imagenet(tmp_path)
    ds = DATASETS.build(
        dict(type='ImageNet', data_root=str(tmp_path), split=split,
             crop_size=32))
    assert isinstance(ds, ImageNet)
    assert ds.metainfo['classes'] == ('n01440764', 'n01443537')
    assert ds.num_classes == 2 and len(ds) == 6
    batch = default_collate([ds[i] for i in range(len(ds))])
    assert batch['inputs'].shape == (6, 3, 32, 32)
    assert batch['inputs'].dtype == torch.uint8
    assert batch['data_samples'].tolist() == [0, 0, 0, 1, 1, 1]
    if split == 'val':
        assert torch.equal(ds[1]['inputs'], ds[1]['inputs'])


def test_imagenet_corrupt_image_names_file(tmp_path):
    _write_imagenet(tmp_path)
    bad = osp.join(tmp_path, 'val', 'n01440764', 'n01440764_9.JPEG')
    with open(bad, 'wb') as f:
        f.write(b'\xff\xd8 not really a jpeg')
    ds = ImageNet(str(tmp_path), 'val', crop_size=32)
    errors = []
    for i in range(len(ds)):
        try:
            ds[i]
        except RuntimeError as e:
            errors.append(str(e))
    assert len(errors) == 1 and bad in errors[0]


def test_imagenet_splits_must_share_classes(tmp_path):
    _write_imagenet(tmp_path)
    os.makedirs(osp.join(tmp_path, 'val', 'n09999999'))
    with pytest.raises(ValueError, match='different class folders'):
        ImageNet(str(tmp_path), 'train')


def test_imagenet_train_ignores_a_flat_val_folder(tmp_path):
    # the raw ILSVRC-2012 val release is one folder of images
    _write_imagenet(tmp_path)
    shutil.rmtree(osp.join(tmp_path, 'val'))
    os.makedirs(osp.join(tmp_path, 'val'))
    Image.new('RGB', (8, 8)).save(
        osp.join(tmp_path, 'val', 'ILSVRC2012_val_00000001.JPEG'))
    assert len(ImageNet(str(tmp_path), 'train', crop_size=32)) == 6


def test_imagenet_missing_or_empty_split(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        ImageNet(str(tmp_path), 'train')
    assert osp.join(str(tmp_path), 'train') in str(info.value)
    assert '<data_root>/{train,val}/<wnid>/*.JPEG' in str(info.value)
    os.makedirs(osp.join(tmp_path, 'train'))
    with pytest.raises(FileNotFoundError, match='wnid'):
        ImageNet(str(tmp_path), 'train')
