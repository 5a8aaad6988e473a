"""The digit-pairs benchmark generator: deterministic bytes, CIFAR-100's
layout read by our data set and by torchvision's, every class present,
labels that say which digits are drawn, and train / test images composed
from disjoint source handwriting."""
import hashlib
import json
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
import torchvision

from dhkd_det.datasets import CIFAR100, digit_pairs_as_cifar, digit_split
from dhkd_det.datasets.digit_pairs import SOURCES_FILE, render_split


def _digest(root):
    folder = osp.join(root, 'cifar-100-python')
    return {name: hashlib.sha256(open(osp.join(folder, name), 'rb').read())
            .hexdigest() for name in ('train', 'test', 'meta')}


@pytest.fixture(scope='module')
def pairs_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('pairs'))
    sizes = digit_pairs_as_cifar(root, train_per_class=3, test_per_class=2)
    assert sizes == dict(train=300, test=200)
    return root


def test_same_arguments_same_bytes(pairs_root, tmp_path):
    torch.set_num_threads(2)  # the generator pins its own thread count
    digit_pairs_as_cifar(str(tmp_path), train_per_class=3, test_per_class=2)
    assert _digest(str(tmp_path)) == _digest(pairs_root)
    other = tmp_path / 'other'
    digit_pairs_as_cifar(str(other), train_per_class=3, test_per_class=2,
                         seed=1)
    assert _digest(str(other))['train'] != _digest(pairs_root)['train']


def test_read_by_our_data_set_and_torchvision(pairs_root):
    for split, n in (('train', 300), ('test', 200)):
        data = CIFAR100(pairs_root, split=split, download=False,
                        check_md5=False)
        assert len(data) == n
        sample = data[0]
        assert sample['inputs'].shape == (3, 32, 32)
        assert sample['inputs'].dtype == torch.uint8
        counts = np.bincount([data[i]['data_samples'] for i in range(n)],
                             minlength=100)
        assert (counts == n // 100).all()  # every class, equally often
    with open(osp.join(pairs_root, 'cifar-100-python', 'meta'), 'rb') as f:
        meta = pickle.load(f, encoding='latin1')
    assert meta['fine_label_names'] == [f'{c:02d}' for c in range(100)]


def test_read_by_torchvision(pairs_root, monkeypatch):
    """torchvision's CIFAR100 reads the same files once its md5 check of
    the official release is switched off (as a third-party loader must
    be told)."""
    # its md5 checks of the official files, of the splits and of meta
    monkeypatch.setattr(torchvision.datasets.cifar, 'check_integrity',
                        lambda *args, **kwargs: True)
    tv = torchvision.datasets.CIFAR100(pairs_root, train=False,
                                       download=False)
    ours = CIFAR100(pairs_root, split='test', download=False,
                    check_md5=False)
    assert len(tv) == len(ours) == 200
    image, label = tv[5]
    assert label == ours[5]['data_samples']
    assert np.array_equal(np.asarray(image),
                          ours[5]['inputs'].permute(1, 2, 0).numpy())


def test_train_and_test_digits_come_from_disjoint_handwriting(pairs_root):
    with open(osp.join(pairs_root, SOURCES_FILE)) as f:
        sources = json.load(f)
    train_idx, test_idx = digit_split(0)
    train = set(np.ravel(sources['train']).tolist())
    test = set(np.ravel(sources['test']).tolist())
    assert train <= set(train_idx.tolist())
    assert test <= set(test_idx.tolist())
    assert not train & test
    # the drawn digits are the label's: tens on the left, ones on the right
    from sklearn.datasets import load_digits
    target = load_digits().target
    with open(osp.join(pairs_root, 'cifar-100-python', 'train'), 'rb') as f:
        labels = np.array(pickle.load(f, encoding='bytes')[b'fine_labels'])
    drawn = target[np.array(sources['train'])]
    assert (drawn[:, 0] * 10 + drawn[:, 1] == labels).all()


def test_difficulty_zero_is_clean_and_centred():
    """Without jitter, clutter or noise each canvas is the two digits in
    their two halves on a plain background, the tens in warm ink (red over
    blue) and the ones in cool ink (blue over red)."""
    glyphs = torch.zeros(10, 8, 8)
    glyphs[:, 1:7, 3:5] = 1.0  # a bar per digit class
    rng = np.random.default_rng(0)
    images, labels, drawn = render_split(glyphs, np.arange(10), 1, rng,
                                         difficulty=0.0)
    assert images.shape == (100, 32, 32, 3) and sorted(labels) == list(
        range(100))
    assert (drawn[:, 0] == labels // 10).all()
    assert (drawn[:, 1] == labels % 10).all()
    pixels = images.astype(int)
    background = pixels[:, :1, :1]
    ink = np.abs(pixels - background).max(-1) > 60
    left, right = ink[:, :, :16], ink[:, :, 16:]
    assert left.any((1, 2)).all() and right.any((1, 2)).all()
    assert not ink[:, :4, :4].any() and not ink[:, -4:, -4:].any()
    red, blue = pixels[..., 0], pixels[..., 2]
    assert (red[:, :, :16][left] > blue[:, :, :16][left]).all()
    assert (blue[:, :, 16:][right] > red[:, :, 16:][right]).all()


def test_difficulty_mixes_easy_and_hard_images():
    """Each image draws its own difficulty: at the benchmark's, some
    canvases are nearly noise-free and others noisy."""
    glyphs = torch.zeros(10, 8, 8)
    images, _, _ = render_split(glyphs, np.arange(10), 2,
                                np.random.default_rng(0), difficulty=1.5)
    # a blank glyph: what varies inside a canvas is noise (and clutter)
    spread = images.astype(float).std((1, 2)).mean(-1)
    assert spread.min() < 2 and spread.max() > 15


@pytest.mark.parametrize('kwargs, words', [
    (dict(train_per_class=0), 'train_per_class'),
    (dict(difficulty=3.0), 'difficulty'),
])
def test_bad_arguments_are_named(tmp_path, kwargs, words):
    with pytest.raises(ValueError, match=words):
        digit_pairs_as_cifar(str(tmp_path), **kwargs)
