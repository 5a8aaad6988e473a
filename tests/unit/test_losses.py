"""Losses against closed forms, hand-computed values and the reference."""
import math

import pytest
import torch
import torch.nn.functional as F

from dhkd_det.losses import (BinaryKLNormLoss, DKDLoss, KDLoss, binary_kl,
                             binary_kl_norm, dkd_loss, kd_loss)


def reference_binary_kl_norm(zs, zt, T):
    """The DHKD reference code's BinaryKLNorm (clamped KLDivLoss form)."""
    d = torch.sigmoid((zs - zt) / T).clamp(1e-8, 1 - 1e-8)
    half = torch.full_like(d, 0.5)
    kl = F.kl_div(torch.log(d), half, reduction='none') + F.kl_div(
        torch.log(1 - d), half, reduction='none')
    return kl.sum() * T**2 / zs.shape[0]


def reference_binary_kl(zs, zt, T):
    ps = torch.sigmoid(zs / T).clamp(1e-8, 1 - 1e-8)
    pt = torch.sigmoid(zt / T).clamp(1e-8, 1 - 1e-8)
    kl = F.kl_div(torch.log(ps), pt, reduction='none') + F.kl_div(
        torch.log(1 - ps), 1 - pt, reduction='none')
    return kl.sum() * T**2 / zs.shape[0]


def test_binary_kl_norm_hand_value():
    # one sample, one class, dz = 2, T = 1: log cosh(1) = 0.4337808
    v = binary_kl_norm(torch.tensor([[2.0]]), torch.tensor([[0.0]]), 1.0)
    assert v.item() == pytest.approx(math.log(math.cosh(1.0)), rel=1e-6)
    # T=2, N=2: T^2/N * (log cosh(0.5) + log cosh(-1))
    zs = torch.tensor([[2.0], [0.0]])
    zt = torch.tensor([[0.0], [4.0]])
    expect = 4 / 2 * (math.log(math.cosh(0.5)) + math.log(math.cosh(1.0)))
    assert binary_kl_norm(zs, zt, 2.0).item() == pytest.approx(expect,
                                                               rel=1e-6)


@pytest.mark.parametrize('T', [1.0, 2.0, 4.0])
def test_binary_kl_norm_matches_reference_where_finite(T):
    g = torch.Generator().manual_seed(0)
    zs = torch.randn(16, 100, generator=g, dtype=torch.float64) * 3
    zt = torch.randn(16, 100, generator=g, dtype=torch.float64) * 3
    assert ((zs - zt).abs() / T).max() < 17  # the reference's clamp is off
    zs.requires_grad_(True)
    ours = binary_kl_norm(zs, zt, T)
    (g_ours, ) = torch.autograd.grad(ours, zs)
    zs2 = zs.detach().clone().requires_grad_(True)
    ref = reference_binary_kl_norm(zs2, zt, T)
    (g_ref, ) = torch.autograd.grad(ref, zs2)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)
    assert torch.allclose(g_ours.double(), g_ref, rtol=1e-4, atol=1e-7)


def test_binary_kl_norm_analytic_gradient():
    T, N = 2.0, 4
    zs = (torch.randn(N, 10) * 30).requires_grad_(True)
    zt = torch.randn(N, 10) * 30
    binary_kl_norm(zs, zt, T).backward()
    expect = (T / N) * (torch.sigmoid((zs.detach() - zt) / T) - 0.5)
    assert torch.allclose(zs.grad, expect, atol=1e-6)


def test_binary_kl_norm_minimum_at_equal_logits():
    zt = torch.randn(8, 100)
    zs = zt.clone().requires_grad_(True)
    loss = binary_kl_norm(zs, zt, 2.0)
    loss.backward()
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    assert zs.grad.abs().max().item() < 1e-7
    assert binary_kl_norm(zt + 0.1, zt, 2.0) > loss


@pytest.mark.parametrize('dtype', [torch.float32, torch.float16,
                                   torch.bfloat16])
def test_binary_kl_norm_far_logits_stay_finite(dtype):
    """The reference returns inf with zero gradient once |dz|/T > ~17 in
    float32; ours stays finite with the analytic gradient."""
    T, N = 2.0, 2
    zs = torch.tensor([[40.0, -60.0, 0.5], [100.0, 3.0, -1.0]], dtype=dtype)
    zt = torch.zeros_like(zs)
    ref = reference_binary_kl_norm(zs.float(), zt.float(), T)
    assert not torch.isfinite(ref)  # the defect we fix
    zs.requires_grad_(True)
    loss = binary_kl_norm(zs, zt, T)
    loss.backward()
    assert torch.isfinite(loss)
    expect_val = T**2 / N * sum(
        math.log(math.cosh(v / (2 * T))) if abs(v) < 300 else abs(v) /
        (2 * T) - math.log(2) for v in zs.detach().float().flatten().tolist())
    assert loss.item() == pytest.approx(expect_val, rel=1e-3)
    expect_grad = (T / N) * (torch.sigmoid(zs.detach().float() / T) - 0.5)
    tol = 1e-6 if dtype == torch.float32 else 1e-2
    assert torch.allclose(zs.grad.float(), expect_grad, atol=tol)
    assert (zs.grad.float().abs() > 0.4).sum() >= 3  # far logits get gradient


def test_binary_kl_closed_form_and_reference():
    T = 2.0
    zs = torch.randn(8, 20, dtype=torch.float64) * 3
    zt = torch.randn(8, 20, dtype=torch.float64) * 3
    ps, pt = torch.sigmoid(zs / T), torch.sigmoid(zt / T)
    closed = (pt * torch.log(pt / ps) + (1 - pt) * torch.log(
        (1 - pt) / (1 - ps))).sum() * T**2 / 8
    assert binary_kl(zs, zt, T).item() == pytest.approx(closed.item(),
                                                        rel=1e-5)
    assert binary_kl(zs, zt, T).item() == pytest.approx(
        reference_binary_kl(zs, zt, T).item(), rel=1e-5)
    far = binary_kl(torch.tensor([[80.0]]), torch.tensor([[-80.0]]), T)
    assert torch.isfinite(far)
    # hand value: zs = 0, zt = 0 -> 0
    assert binary_kl(torch.zeros(1, 3), torch.zeros(1, 3), T).item() == 0


def test_kd_loss_closed_form_and_hand_value():
    T = 4.0
    zs = torch.randn(5, 10, dtype=torch.float64)
    zt = torch.randn(5, 10, dtype=torch.float64)
    pt = F.softmax(zt / T, -1)
    closed = (pt * (torch.log(pt) - F.log_softmax(zs / T, -1))).sum(
        -1).mean() * T**2
    assert kd_loss(zs, zt, T).item() == pytest.approx(closed.item(),
                                                      rel=1e-5)
    # two classes, T=1: KL([0.5,0.5] || softmax([log 3, 0]) = [.75, .25])
    v = kd_loss(torch.tensor([[math.log(3.0), 0.0]]), torch.zeros(1, 2), 1.0)
    expect = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    assert v.item() == pytest.approx(expect, rel=1e-5)
    assert kd_loss(zt, zt, T).item() == pytest.approx(0.0, abs=1e-6)


def mdistiller_dkd(logits_student, logits_teacher, target, alpha, beta, T):
    """mdistiller's dkd_loss, verbatim in substance."""
    gt_mask = torch.zeros_like(logits_student).scatter_(
        1, target.unsqueeze(1), 1).bool()
    other_mask = ~gt_mask
    ps = F.softmax(logits_student / T, dim=1)
    pt = F.softmax(logits_teacher / T, dim=1)

    def cat_mask(t):
        return torch.cat([(t * gt_mask).sum(1, keepdims=True),
                          (t * other_mask).sum(1, keepdims=True)], dim=1)

    ps, pt = cat_mask(ps), cat_mask(pt)
    tckd = F.kl_div(torch.log(ps), pt, reduction='sum') * T**2 / len(target)
    pt2 = F.softmax(logits_teacher / T - 1000.0 * gt_mask, dim=1)
    lps2 = F.log_softmax(logits_student / T - 1000.0 * gt_mask, dim=1)
    nckd = F.kl_div(lps2, pt2, reduction='sum') * T**2 / len(target)
    return alpha * tckd + beta * nckd


def test_dkd_matches_mdistiller():
    zs = torch.randn(6, 10, dtype=torch.float64)
    zt = torch.randn(6, 10, dtype=torch.float64)
    y = torch.randint(0, 10, (6, ))
    ours = dkd_loss(zs, zt, 4.0, target=y, alpha=1.0, beta=8.0)
    ref = mdistiller_dkd(zs, zt, y, 1.0, 8.0, 4.0)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)
    with pytest.raises(ValueError, match='labels'):
        dkd_loss(zs, zt, 4.0)


def test_loss_modules_weight_and_shape_errors():
    zs, zt = torch.randn(4, 7), torch.randn(4, 7)
    assert BinaryKLNormLoss(2.0, loss_weight=0.5)(zs, zt).item() == \
        pytest.approx(0.5 * binary_kl_norm(zs, zt, 2.0).item())
    assert KDLoss(4.0, 2.0)(zs, zt).item() == pytest.approx(
        2 * kd_loss(zs, zt, 4.0).item())
    y = torch.randint(0, 7, (4, ))
    assert DKDLoss(beta=2.0)(zs, zt, target=y).item() == pytest.approx(
        dkd_loss(zs, zt, 4.0, target=y, beta=2.0).item())
    with pytest.raises(ValueError, match='num_classes'):
        binary_kl_norm(torch.randn(4, 7), torch.randn(4, 8))
