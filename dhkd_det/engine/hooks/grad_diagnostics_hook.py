"""GradDiagnosticsHook: do the task and the distillation losses pull the
same parameters in opposite directions?  DHKD's premise, measured while
training."""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from torch import Tensor

from ...distillers import BaseDistiller
from ...optim.grad_align import GradAlignOptimWrapper
from ..distiller_of import distiller_of


def group_cosines(task_grads: Dict[str, Tensor],
                  distill_grads: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Per group, the cosine between the flat task and distillation
    gradients; 0 where either is zero (the loss does not reach the group,
    as the task loss and a dual-head student's aux head)."""
    cosines = {}
    for name, g_task in task_grads.items():
        g_distill = distill_grads[name]
        norms = g_task.norm() * g_distill.norm()
        cosines[name] = torch.where(
            norms > 0, torch.dot(g_task, g_distill) / norms.clamp_min(1e-30),
            norms.new_zeros(()))
    return cosines


def _last_stage(network: nn.Module) -> Optional[nn.Module]:
    """The top-level child holding the network's last convolution: the
    last stage of the zoo's and MMDetection's backbones alike."""
    last = None
    for child in network.children():
        if any(isinstance(m, nn.Conv2d) for m in child.modules()):
            last = child
    return last


def diagnostic_groups(distiller: BaseDistiller
                      ) -> Dict[str, List[nn.Parameter]]:
    """The parameter groups the cosines are measured on, as the distiller
    names them: its main classifier(s), its aux classifier(s), its backbone
    (without the classifiers) and the backbone's last stage."""
    main = [p for m in distiller.main_classifiers() for p in m.parameters()]
    aux = [p for m in distiller.aux_classifiers() for p in m.parameters()]
    network = distiller.student_backbone()
    head_ids = {id(p) for p in main + aux}
    backbone = [p for p in network.parameters() if id(p) not in head_ids]
    last = _last_stage(network)
    groups = dict(main_head=main, aux_head=aux, backbone=backbone,
                  backbone_last_stage=[] if last is None else list(
                      last.parameters()))
    return {name: [p for p in params if p.requires_grad]
            for name, params in groups.items() if params}


@HOOKS.register_module()
class GradDiagnosticsHook(Hook):
    """Every ``interval`` iterations, the gradients of the task loss and of
    the distillation loss are taken apart (two extra backward passes on
    that iteration only; nothing is done on the others) and their cosine is
    logged per parameter group as ``grad/cos_<group>``, with the fraction
    of measured steps where it was negative as ``grad/conflict_<group>``:

    - ``main_head``: the main classifier, which carries both losses in a
      single-head student (the shared classifier where, by DHKD's premise,
      they contradict each other);
    - ``aux_head``: a dual-head student's aux classifier (the task loss does
      not reach it, so its cosine is 0 by construction, as is the main
      head's: the split removes the contradiction from the heads);
    - ``backbone`` and ``backbone_last_stage`` (the top-level child holding
      the last convolution), where both losses meet in every student.

    With gradient alignment the hook also logs, over all iterations since
    the last measurement, the fraction whose distillation gradient was
    projected (``grad/ga_projected``) and the mean relative change the
    projection made to it (``grad/ga_rel_change``), counted on the device by
    the optimizer wrapper.

    Works for ``ClsDistiller`` and ``DetDistiller`` (RoI and dense heads),
    which name the groups' modules (``main_classifiers``,
    ``aux_classifiers``, ``student_backbone``) and hand the hook their loss
    totals through ``add_grad_observer`` on the measured iterations, with
    any optimizer wrapper.  Under DDP each process measures its own
    gradients.
    """
    priority = 'NORMAL'

    def __init__(self, interval: int = 50):
        if interval < 1:
            raise ValueError(f'GradDiagnosticsHook interval must be >= 1, '
                             f'got {interval}')
        self.interval = interval
        self._groups: Dict[str, List[nn.Parameter]] = {}
        self._cosines: Dict[str, Tensor] = {}
        self._conflicts: Dict[str, int] = {}
        self._measured = 0
        self._observing = False

    def before_train(self, runner) -> None:
        self._groups = diagnostic_groups(distiller_of(runner,
                                                      'GradDiagnosticsHook'))

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            distiller_of(runner, 'GradDiagnosticsHook').add_grad_observer(
                self._measure)
            self._observing = True

    def _measure(self, task_loss: Tensor, distill_loss: Tensor) -> None:
        """The distiller's grad observer on a measured iteration: its two
        loss totals, before the update."""
        params = [p for group in self._groups.values() for p in group]
        grads = {}
        for name, loss in (('task', task_loss), ('distill', distill_loss)):
            if loss.requires_grad:
                got = torch.autograd.grad(loss, params, retain_graph=True,
                                          allow_unused=True)
            else:
                got = [None] * len(params)
            by_param = {id(p): (torch.zeros_like(p) if g is None else g)
                        for p, g in zip(params, got)}
            grads[name] = {
                group: torch.cat([by_param[id(p)].reshape(-1)
                                  for p in members])
                for group, members in self._groups.items()}
        self._cosines = group_cosines(grads['task'], grads['distill'])

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if not self._observing:
            return
        distiller_of(runner, 'GradDiagnosticsHook').remove_grad_observer(
            self._measure)
        self._observing = False
        if not self._cosines:
            return
        self._measured += 1
        hub = runner.message_hub
        for name, cosine in self._cosines.items():
            value = float(cosine)  # the measured iteration's one host sync
            self._conflicts[name] = self._conflicts.get(name, 0) + (value < 0)
            hub.update_scalar(f'train/grad/cos_{name}', value)
            hub.update_scalar(f'train/grad/conflict_{name}',
                              self._conflicts[name] / self._measured)
        self._cosines = {}
        wrapper = runner.optim_wrapper
        if isinstance(wrapper, GradAlignOptimWrapper):
            stats = wrapper.read_stats()
            steps = int(stats.steps)
            if steps:
                hub.update_scalar('train/grad/ga_projected',
                                  float(stats.projected) / steps)
                hub.update_scalar('train/grad/ga_rel_change',
                                  float(stats.mean_rel_change))
