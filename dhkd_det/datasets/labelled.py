"""What the classification data sets share: class names and one label per
sample, set by the subclass as ``_classes`` and ``_labels``."""
from typing import Sequence

from torch.utils.data import Dataset


class LabelledDataset(Dataset):
    _classes: Sequence[str]
    _labels: Sequence[int]

    @property
    def metainfo(self) -> dict:
        return dict(classes=self._classes)

    @property
    def num_classes(self) -> int:
        return len(self._classes)

    def __len__(self) -> int:
        return len(self._labels)
