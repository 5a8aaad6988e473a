"""The one DDP wrapper of dhkd_det: MMEngine's, with the distillers'
training step kept their own and CPU (gloo) processes supported.

MMEngine's ``MMDistributedDataParallel.train_step`` ends in
``optim_wrapper.update_params(total)``, so a step on the (task,
distillation) pair (``GradAlignOptimWrapper``) could only get the pair
hidden in the total.  For a distiller this wrapper runs the distiller's
``train_step`` instead, giving it itself as the model to run forward through
(DDP's forward, ``no_sync`` in the optimizer wrapper's context).  Any other
model (a teacher or a student trained alone) trains as under MMEngine's DDP.
"""
import torch.nn as nn
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS

from ..distillers import BaseDistiller
from ..utils.aliases import register_alias


@MODEL_WRAPPERS.register_module()
class DistillerDataParallel(MMDistributedDataParallel):
    """``model_wrapper_cfg=dict(type='DistillerDataParallel')`` (our
    distillation configs set it; it is used only when training is
    distributed, and ``tools/train.py`` picks it for CPU processes).

    Buffers are not broadcast (MMEngine's default for its DDP).  On CPU
    processes the device ids MMEngine passes (the local rank) are dropped:
    DDP rejects them for a module on the CPU.
    """

    def __init__(self, module: nn.Module, device_ids=None,
                 broadcast_buffers: bool = False, **kwargs):
        param = next(module.parameters(), None)
        if param is None or param.device.type == 'cpu':
            device_ids = None
        super().__init__(module=module, device_ids=device_ids,
                         broadcast_buffers=broadcast_buffers, **kwargs)

    def train_step(self, data, optim_wrapper):
        if isinstance(self.module, BaseDistiller):
            return self.module.train_step(data, optim_wrapper,
                                          runner_model=self)
        return super().train_step(data, optim_wrapper)


# the CPU wrapper tools/train.py used to write into configs
register_alias(MODEL_WRAPPERS, 'CPUDistributedDataParallel',
               DistillerDataParallel)
