"""GradDiagnosticsHook: cosines on hand-built gradients, the distiller's
grad-observer API it measures through (with either optimizer wrapper), and
logged while a single-head and a dual-head student train through the real
tools."""
import pytest
import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.registry import MODELS

from cls_utils import python_tool, run_tool, save_teacher, small_project
from dhkd_det.analysis import read_run
from dhkd_det.engine.hooks.grad_diagnostics_hook import (
    GradDiagnosticsHook, diagnostic_groups, group_cosines)
from dhkd_det.optim import GradAlignOptimWrapper
from dhkd_det.testing import small_cls_distiller_cfg


def test_cosines_by_hand():
    a = torch.tensor([1., 2., -2.])
    cos = group_cosines(dict(opposite=a, orthogonal=a, unreached=a),
                        dict(opposite=-3 * a,
                             orthogonal=torch.tensor([2., -1., 0.]),
                             unreached=torch.zeros(3)))
    assert cos['opposite'].item() == pytest.approx(-1)
    assert cos['orthogonal'].item() == pytest.approx(0)
    assert cos['unreached'].item() == 0


def test_losses_with_opposite_gradients_measure_minus_one():
    head, body = nn.Linear(3, 2), nn.Linear(3, 3)
    x = torch.randn(4, 3)
    out = head(body(x)).sum()
    hook = GradDiagnosticsHook(interval=1)
    hook._groups = dict(main_head=list(head.parameters()),
                        backbone=list(body.parameters()))
    hook._measure(out, -2 * out)  # every gradient exactly reversed
    for cosine in hook._cosines.values():
        assert cosine.item() == pytest.approx(-1)


@pytest.mark.slow
@pytest.mark.parametrize('variant', ['one_head', 'dual_head_ga'])
def test_logged_while_training(variant, tmp_path):
    one_head = variant == 'one_head'
    extra = ("custom_hooks = [dict(type='DHKDHook'), "
             "dict(type='GradDiagnosticsHook', interval=2)]\n")
    if one_head:  # BinaryKLNorm and CE on the same fc
        extra += ("model.update(distill_losses=dict(_delete_=True, main=dict("
                  "type='BinaryKLNormLoss')), eval_aux=False)\n"
                  "model['student'] = dict(aux_head=None, network=dict("
                  "type='resnet8', num_classes=10))\n"
                  "optim_wrapper = dict(type='OptimWrapper')\n")
    cfg = small_project(tmp_path, extra=extra)
    wd = tmp_path / 'wd'
    proc = run_tool(python_tool('train.py', cfg, '--work-dir', str(wd),
                                '--cfg-options', 'train_cfg.max_epochs=2'),
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-4000:]
    run = read_run(str(wd))
    keys = run.keys('train')
    for group in ('main_head', 'backbone', 'backbone_last_stage'):
        assert f'grad/cos_{group}' in keys and f'grad/conflict_{group}' in keys
    _, backbone = run.series('train', 'grad/cos_backbone')
    assert all(-1 <= c <= 1 for c in backbone) and any(c != 0 for c in
                                                      backbone)
    _, main = run.series('train', 'grad/cos_main_head')
    if one_head:  # both losses reach the shared classifier
        assert 'grad/cos_aux_head' not in keys
        assert any(c != 0 for c in main)
    else:  # each head carries one loss: nothing to contradict in the heads
        assert set(main) == {0} and set(
            run.series('train', 'grad/cos_aux_head')[1]) == {0}
        _, projected = run.series('train', 'grad/ga_projected')
        assert projected and all(0 <= p <= 1 for p in projected)


def small_distiller(tmp_path):
    teacher = tmp_path / 'teacher.pth'
    save_teacher(teacher)
    return MODELS.build(small_cls_distiller_cfg(str(teacher)))


def batch(seed):
    g = torch.Generator().manual_seed(seed)
    return dict(inputs=torch.randint(0, 256, (8, 3, 32, 32), generator=g,
                                     dtype=torch.uint8),
                data_samples=torch.randint(0, 10, (8, ), generator=g))


@pytest.mark.parametrize('wrapper_type', [OptimWrapper,
                                          GradAlignOptimWrapper])
def test_grad_observers_see_the_split_with_either_wrapper(wrapper_type,
                                                          tmp_path):
    """add_grad_observer is the one way to the loss totals: called each
    step before the update with the task and distillation totals, whatever
    the optimizer wrapper, until removed."""
    model = small_distiller(tmp_path)
    wrapper = wrapper_type(torch.optim.SGD(model.parameters(), lr=0.1))
    fc = model.student.network.fc.weight
    seen = []

    def observe(task, distill):
        seen.append((task.detach(), distill.detach(), fc.detach().clone()))

    model.add_grad_observer(observe)
    before = fc.detach().clone()
    log_vars = model.train_step(batch(0), wrapper)
    ((task, distill, fc_seen), ) = seen
    assert torch.equal(fc_seen, before) and not torch.equal(fc, before)
    assert torch.allclose(task, log_vars['loss_ce_main'])
    assert torch.allclose(distill, log_vars['loss_binary_kl_norm_aux'])
    assert torch.allclose(task + distill, log_vars['loss'])
    model.remove_grad_observer(observe)
    model.train_step(batch(1), wrapper)
    assert len(seen) == 1


def test_groups_are_the_ones_the_distiller_names(tmp_path):
    model = small_distiller(tmp_path)
    groups = diagnostic_groups(model)
    ids = {name: {id(p) for p in params} for name, params in groups.items()}
    network = model.student.network
    assert ids['main_head'] == {id(p) for p in network.fc.parameters()}
    assert ids['aux_head'] == {id(p) for p in
                               model.student.aux_head.parameters()}
    assert ids['backbone'] == {id(p) for p in network.parameters()} - \
        ids['main_head']
    assert ids['backbone_last_stage'] == {id(p) for p in
                                          network.layer3.parameters()}
