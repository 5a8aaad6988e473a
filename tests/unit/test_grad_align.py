"""Gradient alignment: the projected gradient equals the formula of
docs/method.md, only when the task and distillation gradients conflict."""
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from dhkd_det.optim import (BF16OptimWrapper, GradAlignOptimWrapper,
                            project_conflicting)
from dhkd_det.apis import apply_amp, apply_cuda_graph


class Toy(nn.Module):
    """A shared layer (both losses reach it), a task-only and a
    distill-only head, and a layer no loss reaches."""

    def __init__(self):
        super().__init__()
        self.shared = nn.Linear(3, 4)
        self.main = nn.Linear(4, 2)
        self.aux = nn.Linear(4, 2)
        self.unused = nn.Linear(2, 2)


def losses(model, x, sign):
    h = model.shared(x)
    task = model.main(h).pow(2).sum()
    distill = (sign * model.aux(h)).sum() + sign * 3.0 * h.sum()
    return task, distill


def flat_grads(model, loss):
    params = list(model.parameters())
    grads = torch.autograd.grad(loss, params, retain_graph=True,
                                allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).flatten()
                      for p, g in zip(params, grads)])


def run_case(sign):
    torch.manual_seed(0)
    model = Toy()
    before = torch.cat([p.detach().flatten() for p in model.parameters()])
    x = torch.randn(5, 3)
    task, distill = losses(model, x, sign)
    g_ce, g_kd = flat_grads(model, task), flat_grads(model, distill)
    dot = torch.dot(g_kd, g_ce)
    expected = g_ce + (g_kd - dot / g_ce.dot(g_ce) * g_ce
                       if dot < 0 else g_kd)
    wrapper = GradAlignOptimWrapper(
        torch.optim.SGD(model.parameters(), lr=1.0))
    wrapper.update_params_split(task, distill)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    return before - after, expected, g_ce, g_kd, dot


def test_projection_when_conflicting():
    # find a sign for which the gradients conflict
    update, expected, g_ce, g_kd, dot = run_case(-1.0)
    if dot >= 0:
        update, expected, g_ce, g_kd, dot = run_case(1.0)
    assert dot < 0
    assert torch.allclose(update, expected, atol=1e-5)
    assert not torch.allclose(update, g_ce + g_kd, atol=1e-3)
    # after projection the distillation part is orthogonal to g_ce
    assert abs(torch.dot(update - g_ce, g_ce).item()) < 1e-3 * g_ce.norm()**2


def test_no_projection_when_aligned():
    update, expected, g_ce, g_kd, dot = run_case(1.0)
    if dot < 0:
        update, expected, g_ce, g_kd, dot = run_case(-1.0)
    assert dot >= 0
    assert torch.allclose(update, g_ce + g_kd, atol=1e-5)


def test_unreached_parameters_get_zero_gradient():
    update, *_ = run_case(1.0)
    model = Toy()
    n_unused = sum(p.numel() for p in model.unused.parameters())
    assert torch.all(update[-n_unused:] == 0)


def test_plain_loss_is_rejected_with_a_clear_error():
    model = Toy()
    wrapper = GradAlignOptimWrapper(torch.optim.SGD(model.parameters(),
                                                    lr=0.1))
    loss = model.main(model.shared(torch.randn(2, 3))).sum()
    with pytest.raises(TypeError, match='update_params_split') as err:
        wrapper.update_params(loss)
    assert 'DistillerDataParallel' in str(err.value)


def test_equals_plain_wrapper_when_gradients_agree():
    torch.manual_seed(1)
    m1, m2 = Toy(), Toy()
    m2.load_state_dict(m1.state_dict())
    x = torch.randn(4, 3)
    # distill = task: dot > 0, so GA must equal the plain sum
    for model, cls in ((m1, GradAlignOptimWrapper), (m2, OptimWrapper)):
        h = model.shared(x)
        task = model.main(h).pow(2).sum()
        wrapper = cls(torch.optim.SGD(model.parameters(), lr=0.1))
        if cls is GradAlignOptimWrapper:
            wrapper.update_params_split(task, task)
        else:
            wrapper.update_params(task + task)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        assert torch.allclose(p1, p2, atol=1e-6)


def test_projection_leaves_agreeing_gradients_bit_for_bit():
    g_task = torch.randn(1000, generator=torch.Generator().manual_seed(0))
    g_distill = g_task.abs() * g_task.sign() * 0.3 + 1e-3
    assert torch.dot(g_distill, g_task) > 0
    assert torch.equal(project_conflicting(g_task, g_distill), g_distill)
    projected = project_conflicting(g_task, -g_distill)
    assert abs(torch.dot(projected, g_task)) < 1e-4 * g_task.dot(g_task)


def test_stats_count_each_projection():
    """read_stats counts on the device the steps that projected and their
    mean relative change of the distillation gradient, then restarts."""
    torch.manual_seed(0)
    model, x = Toy(), torch.randn(5, 3)
    # lr 0: every step sees the same weights
    wrapper = GradAlignOptimWrapper(torch.optim.SGD(model.parameters(),
                                                    lr=0.0))
    conflicting = -1.0 if torch.dot(*(flat_grads(model, loss) for loss in
                                      losses(model, x, 1.0))) > 0 else 1.0
    want_rel = []
    for sign in (conflicting, -conflicting, conflicting):
        task, distill = losses(model, x, sign)
        g_ce, g_kd = flat_grads(model, task), flat_grads(model, distill)
        projected = project_conflicting(g_ce, g_kd)
        want_rel.append(float((projected - g_kd).norm() / g_kd.norm()))
        wrapper.update_params_split(task, distill)
    assert want_rel[0] > 0 and want_rel[1] == 0
    stats = wrapper.read_stats()
    assert stats.steps == 3 and float(stats.projected) == 2
    assert float(stats.mean_rel_change) == pytest.approx(
        sum(want_rel) / 3, rel=1e-5)
    assert wrapper.read_stats().steps == 0


def test_gradient_accumulation_scales_both_losses():
    """accumulative_counts=2: two half-scaled aligned steps, one update,
    as one step on the pair summed over both batches' halves."""
    torch.manual_seed(0)
    m1, m2 = Toy(), Toy()
    m2.load_state_dict(m1.state_dict())
    x = torch.randn(5, 3)
    acc = GradAlignOptimWrapper(torch.optim.SGD(m1.parameters(), lr=0.1),
                                accumulative_counts=2)
    acc.initialize_count_status(m1, 0, 2)
    for _ in range(2):
        acc.update_params_split(*losses(m1, x, 1.0))
    GradAlignOptimWrapper(torch.optim.SGD(m2.parameters(), lr=0.1)
                          ).update_params_split(*losses(m2, x, 1.0))
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        assert torch.allclose(p1, p2, atol=1e-6)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.shared = nn.Linear(3, 8)
        self.main = nn.Linear(8, 2)
        self.aux = nn.Linear(8, 2)


def bf16_step(wrapper_cls, **kwargs):
    """One update of ``Net`` from a forward inside the wrapper's
    ``optim_context``; returns the parameter change and the dtype of the
    forward's activations."""
    torch.manual_seed(0)
    model = Net()
    before = [p.detach().clone() for p in model.parameters()]
    x = torch.randn(16, 3)
    wrapper = wrapper_cls(torch.optim.SGD(model.parameters(), lr=0.1),
                          **kwargs)
    with wrapper.optim_context(model):
        h = model.shared(x)
        task = model.main(h).float().pow(2).mean()
        distill = model.aux(h).float().sin().mean()
    if isinstance(wrapper, GradAlignOptimWrapper):
        wrapper.update_params_split(task, distill)
    else:
        wrapper.update_params(task + distill)
    for p in model.parameters():
        assert p.dtype == torch.float32
    update = [b - p.detach() for b, p in zip(before, model.parameters())]
    return update, h.dtype


@pytest.mark.parametrize('wrapper_cls, kwargs, float32_cls', [
    (GradAlignOptimWrapper, dict(dtype='bfloat16'), GradAlignOptimWrapper),
    (BF16OptimWrapper, {}, OptimWrapper),
])
def test_bf16_autocast_keeps_float32_weights(wrapper_cls, kwargs,
                                             float32_cls):
    update, dtype = bf16_step(wrapper_cls, **kwargs)
    assert dtype == torch.bfloat16
    reference, ref_dtype = bf16_step(float32_cls)
    assert ref_dtype == torch.float32
    for u, r in zip(update, reference):
        assert torch.allclose(u, r, rtol=0.05, atol=1e-3)


def test_grad_align_refuses_float16():
    with pytest.raises(ValueError, match='bfloat16'):
        GradAlignOptimWrapper(torch.optim.SGD(Net().parameters(), lr=0.1),
                              dtype='float16')


def test_amp_flag_gives_bf16_with_grad_align_and_fp16_without(monkeypatch):
    # --amp refuses a machine without a GPU; the switch itself is the same
    monkeypatch.setattr('dhkd_det.apis.config.get_device',
                        lambda: 'cuda')
    cfg = Config(dict(optim_wrapper=dict(type='GradAlignOptimWrapper')))
    apply_amp(cfg)
    assert cfg.optim_wrapper == dict(type='GradAlignOptimWrapper',
                                     dtype='bfloat16')
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper')))
    apply_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'


def test_amp_with_cuda_graph_gives_bf16(monkeypatch):
    """--amp --cuda-graph: float16's loss scaler reads a flag to the host
    every step, which a captured step cannot: bfloat16 instead."""
    monkeypatch.setattr('dhkd_det.apis.config.get_device',
                        lambda: 'cuda')
    cfg = Config(dict(model=dict(type='ClsDistiller'),
                      optim_wrapper=dict(type='OptimWrapper')))
    apply_cuda_graph(cfg)
    apply_amp(cfg)
    assert cfg.model.cuda_graph is True
    assert cfg.optim_wrapper.type == 'BF16OptimWrapper'
    for model in ('ImageClassifier', 'DetDistiller'):
        with pytest.raises(ValueError, match=f"'{model}' has no captured"):
            apply_cuda_graph(Config(dict(model=dict(type=model))))
