"""The collate function of data sets that fetch whole batches themselves
(``CIFAR100(device=...)``): the batch is ready, so it passes through."""
from mmengine.registry import FUNCTIONS


@FUNCTIONS.register_module()
def pass_through_collate(batch):
    """``train_dataloader.collate_fn=dict(type='pass_through_collate')``."""
    if not isinstance(batch, dict):
        raise TypeError(
            'pass_through_collate expects a batch already collated by its '
            f'data set (e.g. CIFAR100 with device set), got a '
            f'{type(batch).__name__}; use default_collate for data sets that '
            'return single samples')
    return batch
