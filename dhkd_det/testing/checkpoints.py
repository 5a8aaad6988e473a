"""Randomly initialised models saved as checkpoints, standing in for
trained teachers (nothing is downloaded)."""
import torch
from mmengine.registry import MODELS


def save_teacher(path: str, arch: str = 'resnet8', num_classes: int = 10,
                 layout: str = 'crd', seed: int = 0) -> torch.nn.Module:
    """A zoo network ``arch`` initialised with ``seed`` and saved as CRD /
    mdistiller save their teachers (``layout='crd'``: ``{'model':
    state_dict}``) or as our trainer saves a student
    (``layout='ours'``: ``{'state_dict': {'student.network.<key>':
    ...}}``); returns the network."""
    if layout not in ('crd', 'ours'):
        raise ValueError(f"layout must be 'crd' or 'ours', got "
                         f'{layout!r}')
    torch.manual_seed(seed)
    net = MODELS.build(dict(type=arch, num_classes=num_classes))
    state = net.state_dict()
    if layout == 'crd':
        ckpt = {'model': state, 'epoch': 240, 'best_acc': 73.1}
    else:
        ckpt = {'state_dict': {f'student.network.{k}': v
                               for k, v in state.items()}, 'meta': {}}
    torch.save(ckpt, path)
    return net
