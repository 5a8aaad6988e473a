"""Test-only hook (imported through custom_imports in the distributed
test): each process saves its student weights after training, so the test
can compare the replicas' weights."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RankWeightsDumpHook(Hook):

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        # parameters only: BN running stats legitimately differ per process
        # after the last forward (DDP broadcasts them at the next one)
        params = {k: v.detach() for k, v in model.student.named_parameters()}
        torch.save(params,
                   osp.join(runner.work_dir, f'student_rank{get_rank()}.pth'))
