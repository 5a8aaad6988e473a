"""Logit standardisation (``logit_stand=True``) and DIST: hand-computed
values, the official implementations' value and gradient, the distillers'
wiring on either head, and the configs that use them."""
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import MODELS

import dhkd_det  # noqa: F401
from cls_utils import REPO, save_teacher
from dhkd_det.losses import (BinaryKLNormLoss, DISTLoss, DKDLoss, KDLoss,
                             binary_kl_norm, dist_loss, dkd_loss, kd_loss,
                             standardize)
from dhkd_det.testing import small_cls_distiller_cfg

# ----- the official formulas as published, transcribed ---------------------
# sunshangquan/logit-standardization-KD (commit f6e5aa5),
# mdistiller/distillers/KD.py and mdistiller/distillers/DKD.py: `normalize`,
# `kd_loss(..., logit_stand)` and `dkd_loss(..., logit_stand)`.


def official_normalize(logit):
    mean = logit.mean(dim=-1, keepdims=True)
    stdv = logit.std(dim=-1, keepdims=True)
    return (logit - mean) / (1e-7 + stdv)


def official_kd(zs, zt, T, logit_stand):
    if logit_stand:
        zs, zt = official_normalize(zs), official_normalize(zt)
    log_ps = F.log_softmax(zs / T, dim=1)
    pt = F.softmax(zt / T, dim=1)
    return F.kl_div(log_ps, pt, reduction='none').sum(1).mean() * T**2


def official_dkd(zs, zt, target, alpha, beta, T, logit_stand):
    if logit_stand:
        zs, zt = official_normalize(zs), official_normalize(zt)
    gt = torch.zeros_like(zs).scatter_(1, target.unsqueeze(1), 1).bool()
    other = torch.ones_like(zs).scatter_(1, target.unsqueeze(1), 0).bool()

    def cat_mask(p):
        return torch.cat([(p * gt).sum(1, keepdims=True),
                          (p * other).sum(1, keepdims=True)], dim=1)

    ps = cat_mask(F.softmax(zs / T, dim=1))
    pt = cat_mask(F.softmax(zt / T, dim=1))
    tckd = F.kl_div(torch.log(ps), pt, reduction='sum') * T**2 / len(target)
    pt2 = F.softmax(zt / T - 1000.0 * gt, dim=1)
    log_ps2 = F.log_softmax(zs / T - 1000.0 * gt, dim=1)
    nckd = F.kl_div(log_ps2, pt2, reduction='sum') * T**2 / len(target)
    return alpha * tckd + beta * nckd


# hunto/image_classification_sota (commit 6f7a70a),
# lib/models/losses/dist_kd.py: `DIST(beta, gamma, tau).forward`.


def official_pearson(a, b, eps=1e-8):
    a = a - a.mean(1).unsqueeze(1)
    b = b - b.mean(1).unsqueeze(1)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + eps)


def official_dist(zs, zt, beta, gamma, tau):
    ys = (zs / tau).softmax(dim=1)
    yt = (zt / tau).softmax(dim=1)
    inter = tau**2 * (1 - official_pearson(ys, yt).mean())
    intra = tau**2 * (1 - official_pearson(ys.transpose(0, 1),
                                           yt.transpose(0, 1)).mean())
    return beta * inter + gamma * intra


# ----- logits the comparisons run on ----------------------------------------


def logit_cases():
    """(name, student, teacher) float64 logits: several shapes, extreme
    magnitudes, ties within a row and a row of all-equal logits."""
    g = torch.Generator().manual_seed(0)

    def rand(*shape, scale=3.0):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale

    ties_s = torch.randint(0, 3, (6, 10), generator=g).double()
    ties_t = torch.randint(0, 3, (6, 10), generator=g).double()
    ties_t[0] = 1.0  # a teacher row of equal logits
    return [
        ('8x10', rand(8, 10), rand(8, 10)),
        ('64x100', rand(64, 100), rand(64, 100)),
        ('1x5', rand(1, 5), rand(1, 5)),
        ('3x2', rand(3, 2), rand(3, 2)),
        ('16x81_rois', rand(16, 81), rand(16, 81)),
        ('extreme', rand(8, 100, scale=200.0), rand(8, 100, scale=500.0)),
        ('ties', ties_s, ties_t),
    ]


CASES = logit_cases()
IDS = [c[0] for c in CASES]


def value_and_grad(fn, zs, zt):
    """fn(student, teacher) and its gradient in the student's logits."""
    zs = zs.detach().clone().requires_grad_(True)
    value = fn(zs, zt)
    (grad, ) = torch.autograd.grad(value, zs)
    return value.detach(), grad


def assert_same(ours, official, zs, zt):
    v1, g1 = value_and_grad(ours, zs, zt)
    v2, g2 = value_and_grad(official, zs, zt)
    assert torch.isfinite(v1) and torch.isfinite(g1).all()
    assert torch.allclose(v1, v2, rtol=1e-6, atol=1e-9), (v1, v2)
    assert torch.allclose(g1, g2, rtol=1e-6, atol=1e-9), \
        (g1 - g2).abs().max()


# ----- standardisation --------------------------------------------------------


def test_standardize_hand_values():
    # [1, 2, 3]: mean 2, unbiased std sqrt((1 + 0 + 1) / 2) = 1
    # [0, 0, 3]: mean 1, unbiased std sqrt((1 + 1 + 4) / 2) = sqrt(3)
    # [5, 5, 5]: std 0, so 0 / 1e-7 = 0
    z = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 3.0], [5.0, 5.0, 5.0]],
                     dtype=torch.float64)
    expect = torch.tensor([[-1.0, 0.0, 1.0],
                           [-1 / math.sqrt(3), -1 / math.sqrt(3),
                            2 / math.sqrt(3)], [0.0, 0.0, 0.0]],
                          dtype=torch.float64)
    assert torch.allclose(standardize(z), expect, rtol=1e-6, atol=0)
    # the 1e-7 sits next to the std, as in the official code
    assert standardize(z)[0, 2].item() == pytest.approx(1 / (1 + 1e-7),
                                                        rel=1e-12)


def test_standardize_dtype_and_one_class_error():
    z16 = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float16)
    assert standardize(z16).dtype == torch.float32
    with pytest.raises(ValueError, match='logit_stand=False'):
        standardize(torch.randn(4, 1))


@pytest.mark.parametrize('name,zs,zt', CASES, ids=IDS)
def test_standardize_matches_official(name, zs, zt):
    assert torch.allclose(standardize(zs), official_normalize(zs),
                          rtol=1e-12, atol=0)


# ----- KD / DKD / BinaryKLNorm with logit_stand=True --------------------------


def test_kd_ls_hand_value():
    """Row 1: student [1, 2, 3] -> [-1, 0, 1], teacher [6, 4, 2] (mean 4,
    std 2) -> [1, 0, -1]; at T = 2 both softmaxes share their normaliser,
    so log p_t - log p_s = (z_t - z_s) / T = [1, 0, -1] and
    KL = p_t[0] - p_t[2] = 2 sinh(.5) / (1 + 2 cosh(.5)).
    Row 2: teacher [10, 10, 16] standardises as student [0, 0, 3] does
    (both -> [-1, -1, 2] / sqrt 3): KL = 0.
    Loss = T^2 * mean over the 2 rows = 4 sinh(.5) / (1 + 2 cosh(.5))."""
    zs = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 3.0]])
    zt = torch.tensor([[6.0, 4.0, 2.0], [10.0, 10.0, 16.0]])
    expect = 4 * math.sinh(0.5) / (1 + 2 * math.cosh(0.5))
    ls = KDLoss(temperature=2.0, logit_stand=True)(zs, zt)
    assert ls.item() == pytest.approx(expect, rel=1e-6)
    plain = KDLoss(temperature=2.0)(zs, zt)
    assert plain.item() != pytest.approx(expect, rel=1e-2)


def test_binary_kl_norm_ls_hand_value():
    """Student [1, 2, 3] -> [-1, 0, 1], teacher [3, 2, 1] -> [1, 0, -1]:
    dz = [-2, 0, 2]; at T = 2, T^2 / N * sum log cosh(dz / 2T)
    = 4 * 2 log cosh(0.5)."""
    zs = torch.tensor([[1.0, 2.0, 3.0]])
    zt = torch.tensor([[3.0, 2.0, 1.0]])
    loss = BinaryKLNormLoss(temperature=2.0, logit_stand=True)(zs, zt)
    assert loss.item() == pytest.approx(8 * math.log(math.cosh(0.5)),
                                        rel=1e-6)


@pytest.mark.parametrize('name,zs,zt', CASES, ids=IDS)
@pytest.mark.parametrize('T', [1.0, 2.0, 4.0])
def test_kd_ls_matches_official(name, zs, zt, T):
    assert_same(KDLoss(temperature=T, logit_stand=True),
                lambda s, t: official_kd(s, t, T, True), zs, zt)


@pytest.mark.parametrize('name,zs,zt', CASES, ids=IDS)
def test_kd_without_ls_matches_official(name, zs, zt):
    assert_same(KDLoss(temperature=4.0),
                lambda s, t: official_kd(s, t, 4.0, False), zs, zt)


@pytest.mark.parametrize('name,zs,zt', CASES, ids=IDS)
def test_dkd_ls_matches_official(name, zs, zt):
    """The LS README's DKD + LS for res32x4 -> res8x4: alpha and beta times
    the kd weight 9, T = 2."""
    target = torch.arange(zs.shape[0]) % zs.shape[1]
    loss = DKDLoss(temperature=2.0, alpha=9.0, beta=72.0, logit_stand=True)
    assert_same(lambda s, t: loss(s, t, target=target),
                lambda s, t: official_dkd(s, t, target, 9.0, 72.0, 2.0,
                                          True), zs, zt)


@pytest.mark.parametrize('loss', [
    KDLoss(temperature=2.0, logit_stand=True),
    BinaryKLNormLoss(temperature=2.0, logit_stand=True),
    DKDLoss(temperature=2.0, logit_stand=True)
], ids=['kd', 'binary_kl_norm', 'dkd'])
def test_ls_losses_ignore_each_samples_shift_and_scale(loss):
    """What LS is for: a per-sample positive scale and shift of either
    logit set leaves the loss unchanged (up to the 1e-7)."""
    g = torch.Generator().manual_seed(1)
    zs = torch.randn(6, 10, generator=g, dtype=torch.float64)
    zt = torch.randn(6, 10, generator=g, dtype=torch.float64) * 5
    y = torch.randint(0, 10, (6, ), generator=g)
    scale = torch.rand(6, 1, generator=g, dtype=torch.float64) * 9 + 0.5
    shift = torch.randn(6, 1, generator=g, dtype=torch.float64) * 20
    base = loss(zs, zt, target=y)
    moved = loss(zs * scale + shift, zt / scale - shift, target=y)
    assert moved.item() == pytest.approx(base.item(), rel=1e-5)


def test_ls_modules_are_the_functions_on_standardised_logits():
    g = torch.Generator().manual_seed(2)
    zs, zt = torch.randn(4, 7, generator=g), torch.randn(4, 7, generator=g)
    y = torch.randint(0, 7, (4, ), generator=g)
    ss, st = standardize(zs), standardize(zt)
    assert KDLoss(2.0, 9.0, logit_stand=True)(zs, zt).item() == \
        pytest.approx(9 * kd_loss(ss, st, 2.0).item(), rel=1e-6)
    assert DKDLoss(2.0, logit_stand=True)(zs, zt, target=y).item() == \
        pytest.approx(dkd_loss(ss, st, 2.0, target=y).item(), rel=1e-6)
    assert BinaryKLNormLoss(2.0, 0.5, logit_stand=True)(zs, zt).item() == \
        pytest.approx(0.5 * binary_kl_norm(ss, st, 2.0).item(), rel=1e-6)
    assert 'logit_stand=True' in repr(KDLoss(logit_stand=True))
    assert 'logit_stand' not in repr(KDLoss())


# ----- DIST --------------------------------------------------------------------


def test_dist_hand_value():
    """tau = 1, logits = log of the probabilities below.
    y_s = [[1/2, 1/4, 1/4], [1/4, 1/2, 1/4]]
    y_t = [[1/2, 1/4, 1/4], [1/4, 1/4, 1/2]]
    Inter-class (rows): row 1 equal, r = 1; row 2 centred
    [-1, 2, -1] / 12 and [-1, -1, 2] / 12: r = -3 / 6 = -1/2;
    inter = 1 - (1 - 1/2) / 2 = 3/4.
    Intra-class (columns over 2 samples, r = sign of the product of the
    differences, 0 where a column is constant): column 0 both fall, r = 1;
    column 1 teacher constant, r = 0; column 2 student constant, r = 0;
    intra = 1 - 1/3 = 2/3.  Loss = 3/4 + 2/3 = 17/12."""
    ys = torch.tensor([[.5, .25, .25], [.25, .5, .25]], dtype=torch.float64)
    yt = torch.tensor([[.5, .25, .25], [.25, .25, .5]], dtype=torch.float64)
    loss = dist_loss(ys.log(), yt.log(), tau=1.0)
    assert loss.item() == pytest.approx(17 / 12, rel=1e-6)
    # beta and gamma weight the two terms; tau^2 scales them
    assert dist_loss(ys.log(), yt.log(), 1.0, beta=2.0,
                     gamma=0.0).item() == pytest.approx(1.5, rel=1e-6)
    assert dist_loss(ys.log() * 4, yt.log() * 4, tau=4.0).item() == \
        pytest.approx(16 * 17 / 12, rel=1e-6)


@pytest.mark.parametrize('name,zs,zt', CASES, ids=IDS)
@pytest.mark.parametrize('tau,beta,gamma', [(1.0, 1.0, 1.0), (4.0, 1.0, 1.0),
                                            (4.0, 2.0, 0.5)])
def test_dist_matches_official(name, zs, zt, tau, beta, gamma):
    assert_same(DISTLoss(tau, beta, gamma),
                lambda s, t: official_dist(s, t, beta, gamma, tau), zs, zt)


def test_dist_properties_and_errors():
    g = torch.Generator().manual_seed(3)
    z = torch.randn(8, 10, generator=g, dtype=torch.float64)
    # equal logits: r = |a|^2 / (|a|^2 + 1e-8) for each centred row / column
    # a of y = softmax(z / 4), so only the 1e-8 keeps the loss above 0
    y = (z / 4).softmax(1)
    rows = (y - y.mean(1, keepdim=True)).norm(dim=1)**2
    cols = (y - y.mean(0, keepdim=True)).norm(dim=0)**2
    expect = 16 * ((1 - (rows / (rows + 1e-8)).mean()) +
                   (1 - (cols / (cols + 1e-8)).mean()))
    assert 0 < dist_loss(z, z, tau=4.0).item() == pytest.approx(
        expect.item(), rel=1e-6)
    # softmax forgets a per-sample shift
    shift = torch.randn(8, 1, generator=g, dtype=torch.float64)
    zt = torch.randn(8, 10, generator=g, dtype=torch.float64)
    assert dist_loss(z + shift, zt, 4.0).item() == pytest.approx(
        dist_loss(z, zt, 4.0).item(), rel=1e-9)
    loss = DISTLoss(tau=4.0, loss_weight=2.0)
    assert loss(z, zt).item() == pytest.approx(
        2 * dist_loss(z, zt, 4.0).item(), rel=1e-9)
    assert loss.log_name == 'dist'
    assert repr(loss) == \
        'DISTLoss(tau=4.0, beta=1.0, gamma=1.0, loss_weight=2.0)'
    with pytest.raises(ValueError, match=r'\(N, C\)'):
        dist_loss(torch.randn(2, 3, 4), torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match='num_classes'):
        dist_loss(torch.randn(2, 3), torch.randn(2, 4))


def test_dist_under_amp_dtypes():
    zs = torch.randn(4, 10, dtype=torch.bfloat16, requires_grad=True)
    zt = torch.randn(4, 10, dtype=torch.bfloat16)
    loss = dist_loss(zs, zt, 4.0)
    loss.backward()
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert torch.isfinite(zs.grad).all() and zs.grad.abs().sum() > 0


# ----- the classification distiller: either head ------------------------------


def test_cls_distiller_ls_on_main_and_dist_on_aux(tmp_path):
    """KD + LS on the main head and DIST on the aux head of one student:
    the logged keys, the values equal the losses on the heads' logits (the
    labels reach DKD), and each distillation loss reaches only its head."""
    ckpt = str(tmp_path / 'teacher.pth')
    save_teacher(ckpt)
    for main in (dict(type='KDLoss', temperature=2.0, loss_weight=9.0,
                      logit_stand=True),
                 dict(type='DKDLoss', temperature=2.0, logit_stand=True)):
        model = MODELS.build(small_cls_distiller_cfg(
            ckpt, distill_losses=dict(main=main, aux=dict(
                type='DISTLoss', tau=4.0, loss_weight=2.0))))
        model.eval()  # no dropout: the values can be recomputed
        g = torch.Generator().manual_seed(0)
        data = model.data_preprocessor(dict(
            inputs=torch.randint(0, 256, (8, 3, 32, 32), generator=g,
                                 dtype=torch.uint8),
            data_samples=torch.randint(0, 10, (8, ), generator=g)), True)
        losses = model(**data, mode='loss')
        main_key = f"loss_{'kd' if main['type'] == 'KDLoss' else 'dkd'}_main"
        assert set(losses) == {'loss_ce_main', main_key, 'loss_dist_aux'}
        heads = model.student(data['inputs'])
        with torch.no_grad():
            zt = model.teacher(data['inputs'])
        zt = getattr(zt, 'main', zt)
        expect_main = MODELS.build(main)(heads.main, zt,
                                         target=data['data_samples'])
        assert losses[main_key].item() == pytest.approx(expect_main.item(),
                                                        rel=1e-5)
        assert losses['loss_dist_aux'].item() == pytest.approx(
            2 * dist_loss(heads.aux, zt, 4.0).item(), rel=1e-5)
        aux = list(model.student.aux_head.parameters())
        fc = list(model.student.network.fc.parameters())
        g_dist = torch.autograd.grad(losses['loss_dist_aux'], aux + fc,
                                     retain_graph=True, allow_unused=True)
        assert all(g is not None and g.abs().sum() > 0
                   for g in g_dist[:len(aux)])
        assert all(g is None for g in g_dist[len(aux):])
        g_main = torch.autograd.grad(losses[main_key], aux + fc,
                                     allow_unused=True)
        assert all(g is None for g in g_main[:len(aux)])
        assert all(g is not None and g.abs().sum() > 0
                   for g in g_main[len(aux):])


# ----- the detection distiller: the RoI logits -------------------------------


def test_det_distiller_dist_and_ls_on_roi_logits(tmp_path):
    """Faster R-CNN: DIST on the aux classifier and DKD + LS on the main one
    distil the [N, C + 1] logits of the sampled RoIs, labels included."""
    pytest.importorskip('mmdet')
    pytest.importorskip('mmcv.ops')
    from mmengine.registry import DefaultScope
    from mmdet.registry import MODELS as DET_MODELS
    from mmdet.testing import demo_mm_inputs

    from det_utils import CLASSES, save_detector, small_faster_rcnn
    with DefaultScope.overwrite_default_scope('mmdet'):
        teacher = small_faster_rcnn(dual=False)
        ckpt = str(tmp_path / 'teacher.pth')
        save_detector(ckpt, teacher, seed=1)
        torch.manual_seed(0)
        model = DET_MODELS.build(dict(
            type='DetDistiller', student=small_faster_rcnn(),
            teacher=teacher, teacher_ckpt=ckpt,
            distill_losses=dict(
                aux=dict(type='DISTLoss', tau=1.0, loss_weight=2.0),
                main=dict(type='DKDLoss', temperature=1.0, beta=0.25,
                          logit_stand=True))))
        model.init_weights()
        model.train()
        torch.manual_seed(0)
        data = model.data_preprocessor(demo_mm_inputs(
            batch_size=2, image_shapes=(3, 128, 160), num_items=[3, 3],
            num_classes=len(CLASSES)), True)
        losses = model(**data, mode='loss')
    for key in ('loss_dist_aux', 'loss_dkd_main'):
        value = float(losses[key].detach())
        assert math.isfinite(value) and value > 0, key
    aux = list(model.student.roi_head.bbox_head.fc_cls_aux.parameters())
    grads = torch.autograd.grad(losses['loss_dist_aux'], aux)
    assert all(g.abs().sum() > 0 for g in grads)


# ----- the configs -------------------------------------------------------------

CONFIGS = {
    'kd/cifar100_res32x4_res8x4_ls.py': dict(
        main=('KDLoss', dict(temperature=2.0, loss_weight=9.0,
                             logit_stand=True)), ce=0.1),
    'dkd/cifar100_res32x4_res8x4_ls.py': dict(
        main=('DKDLoss', dict(temperature=2.0, alpha=9.0, beta=72.0,
                              logit_stand=True)), ce=1.0),
    'dist/cifar100_res32x4_res8x4.py': dict(
        main=('DISTLoss', dict(tau=4.0, beta=1.0, gamma=1.0,
                               loss_weight=2.0)), ce=1.0),
    'dhkd/cifar100_res32x4_res8x4_ls.py': dict(
        aux=('BinaryKLNormLoss', dict(temperature=2.0, loss_weight=1.0,
                                      logit_stand=True)), ce=1.0),
    'dhkd/cifar100_res32x4_res8x4_dual_dist.py': dict(
        aux=('DISTLoss', dict(tau=4.0, beta=1.0, gamma=1.0,
                              loss_weight=2.0)), ce=1.0),
}


@pytest.mark.parametrize('name', list(CONFIGS))
def test_ls_and_dist_configs(name, tmp_path):
    """Each config carries its paper's CIFAR recipe and trains a step's
    losses under the logged names (a random resnet32x4 as the teacher)."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    want = CONFIGS[name]
    heads = {h for h in ('main', 'aux') if h in want}
    assert set(cfg.model.distill_losses) == heads
    for head in heads:
        loss_type, values = want[head]
        loss = cfg.model.distill_losses[head]
        assert loss.type == loss_type
        assert {k: loss[k] for k in values} == values
    assert cfg.model.task_losses.main.loss_weight == want['ce']
    assert cfg.model.teacher.type == 'resnet32x4'
    assert cfg.model.student.network.type == 'resnet8x4'
    assert cfg.optim_wrapper.optimizer.lr == 0.05
    assert cfg.param_scheduler.milestones == [150, 180, 210]
    assert cfg.train_cfg.max_epochs == 240
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.model.teacher_ckpt  # inherited, never written here
    # the teacher base names the path; the config only passes it on
    assert cfg.model.teacher_ckpt not in open(
        osp.join(REPO, 'configs', name)).read()
    ckpt = str(tmp_path / 'teacher.pth')
    save_teacher(ckpt, arch='resnet32x4', num_classes=100)
    cfg.model.teacher_ckpt = ckpt
    model = MODELS.build(cfg.model)
    data = model.data_preprocessor(dict(
        inputs=torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8),
        data_samples=torch.randint(0, 100, (4, ))), True)
    losses = model(**data, mode='loss')
    loss_names = {h: MODELS.get(want[h][0]).log_name for h in heads}
    assert set(losses) == {'loss_ce_main'} | {
        f'loss_{loss_names[h]}_{h}' for h in heads}
    assert all(torch.isfinite(v) for v in losses.values())
