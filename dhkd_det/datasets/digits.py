"""scikit-learn's handwritten digits (1,797 8x8 grey images, 10 classes,
shipped inside the package: nothing is downloaded) written in the on-disk
formats our configs read, for the offline demos and quick experiments."""
import numpy as np
import torch
import torch.nn.functional as F

from .cifar import write_cifar


def load_digits_images(size: int = 32, seed: int = 0, test_size=0.25):
    """The digits upsampled to ``size`` x ``size`` RGB uint8 (N, H, W, 3),
    split stratified into (x_train, x_test, y_train, y_test) by ``seed``."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as err:
        raise ImportError(
            'the digits data ship with scikit-learn, which is not installed: '
            "pip install scikit-learn (or pip install -e '.[demo]')") from err
    digits = load_digits()
    images = torch.from_numpy(digits.images).float()[:, None] / 16.0
    images = F.interpolate(images, size=(size, size), mode='bilinear',
                           align_corners=False)
    images = (images.clamp(0, 1) * 255).round().to(torch.uint8)
    images = images.expand(-1, 3, -1, -1).permute(0, 2, 3, 1).numpy()
    return train_test_split(images, digits.target, test_size=test_size,
                            random_state=seed, stratify=digits.target)


def digits_as_cifar(root: str, max_train: int = 0, seed: int = 0) -> dict:
    """Writes the digits at 32x32 in CIFAR's pickle layout under ``root``
    (``cifar-100-python/``, read by our ``CIFAR100`` data set with 10
    classes); returns the split sizes."""
    x_tr, x_te, y_tr, y_te = load_digits_images(32, seed)
    if max_train:
        x_tr, y_tr = x_tr[:max_train], y_tr[:max_train]
    write_cifar(root, train=(np.ascontiguousarray(x_tr), y_tr.tolist()),
                test=(np.ascontiguousarray(x_te), y_te.tolist()),
                class_names=[str(i) for i in range(10)])
    return dict(train=len(y_tr), test=len(y_te))
