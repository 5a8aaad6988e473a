"""DDP for the distillers: the training step stays the distiller's own.

MMEngine's ``MMDistributedDataParallel.train_step`` ends in
``optim_wrapper.update_params(total)``, so a step on the (task,
distillation) pair (``GradAlignOptimWrapper``) could only get the pair
hidden in the total.  This wrapper runs the distiller's ``train_step``
instead, giving it itself as the model to run forward through (DDP's
forward, ``no_sync`` in the optimizer wrapper's context).
"""
import torch.nn as nn
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class DistillerDataParallel(MMDistributedDataParallel):
    """``model_wrapper_cfg=dict(type='DistillerDataParallel')`` for a
    ``dhkd_det`` distiller (our distillation configs set it; it is used only
    when training is distributed).

    Buffers are not broadcast (MMEngine's default for its DDP).  On CPU
    processes (gloo) the device ids MMEngine passes are dropped, which DDP
    rejects for a CPU module.
    """

    def __init__(self, module: nn.Module, device_ids=None,
                 broadcast_buffers: bool = False, **kwargs):
        param = next(module.parameters(), None)
        if param is not None and param.device.type == 'cpu':
            device_ids = None
        super().__init__(module=module, device_ids=device_ids,
                         broadcast_buffers=broadcast_buffers, **kwargs)

    def train_step(self, data, optim_wrapper):
        return self.module.train_step(data, optim_wrapper, runner_model=self)
