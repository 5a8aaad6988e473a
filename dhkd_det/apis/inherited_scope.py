"""What MMEngine's scope marks leave where they do not belong.

A config that inherits a base by a package's name (``_base_ =
'dhkd_det::dhkd/cifar100_res32x4_res8x4.py'``) gets ``_scope_='dhkd_det'``
on the first dict with a ``type`` in every branch of that base.  Where
MMEngine builds such a dict through a registry the mark is taken off; a
data loader's ``collate_fn``, though, is looked up by its ``type`` and
called with the dict's other keys as arguments, so its mark would reach
``default_collate(..., _scope_=...)`` and fail at the first batch.  The
function looked up does not depend on the scope (MMEngine's ``FUNCTIONS``
registry of the root)."""
from mmengine.config import Config


def drop_collate_scopes(cfg: Config) -> None:
    """Take the inherited scope mark off every data loader's
    ``collate_fn``."""
    for key in list(cfg.keys()):
        loader = cfg.get(key)
        if key.endswith('_dataloader') and isinstance(loader, dict):
            collate = loader.get('collate_fn')
            if isinstance(collate, dict):
                collate.pop('_scope_', None)
