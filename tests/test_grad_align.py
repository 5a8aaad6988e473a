"""Gradient alignment: the projected gradient equals the formula of
docs/method.md, only when the task and distillation gradients conflict."""
import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from dhkd_det.engine import GradAlignOptimWrapper


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
    total = task + distill
    total.grad_align_parts = (task, distill)
    return total, task, distill


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
    total, task, distill = losses(model, x, sign)
    g_ce, g_kd = flat_grads(model, task), flat_grads(model, distill)
    dot = torch.dot(g_kd, g_ce)
    expected = g_ce + (g_kd - dot / g_ce.dot(g_ce) * g_ce
                       if dot < 0 else g_kd)
    wrapper = GradAlignOptimWrapper(
        torch.optim.SGD(model.parameters(), lr=1.0))
    wrapper.update_params(total)
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
    try:
        wrapper.update_params(loss)
    except TypeError as err:
        assert 'distiller' in str(err)
    else:
        raise AssertionError('expected a TypeError')


def test_equals_plain_wrapper_when_gradients_agree():
    torch.manual_seed(1)
    m1, m2 = Toy(), Toy()
    m2.load_state_dict(m1.state_dict())
    x = torch.randn(4, 3)
    # distill = task: dot > 0, so GA must equal the plain sum
    for model, cls in ((m1, GradAlignOptimWrapper), (m2, OptimWrapper)):
        h = model.shared(x)
        task = model.main(h).pow(2).sum()
        total = task + task
        total.grad_align_parts = (task, task)
        cls(torch.optim.SGD(model.parameters(), lr=0.1)).update_params(total)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        assert torch.allclose(p1, p2, atol=1e-6)
