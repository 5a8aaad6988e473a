"""Neural-collapse metrics against hand-built cases, and NeuralCollapseHook
logging them with the accuracy in a real training run."""
import json
import math

import pytest
import torch

from cls_utils import python_tool, run_tool, small_project
from dhkd_det.evaluation.neural_collapse import ClassStats, neural_collapse


def simplex_etf(num_classes, dim, scale=3.0, seed=0):
    """C class means forming a simplex ETF in R^dim, randomly rotated."""
    centred = torch.eye(num_classes, dtype=torch.float64) - 1 / num_classes
    basis, _ = torch.linalg.qr(torch.randn(
        dim, num_classes, dtype=torch.float64,
        generator=torch.Generator().manual_seed(seed)))
    return scale * centred @ basis.T  # (C, dim), rows sum to zero


def stats_of(features, labels, num_classes):
    stats = ClassStats(num_classes, features.shape[1])
    # in two parts: the sums must not depend on how batches split
    half = len(features) // 2
    stats.update(features[:half], labels[:half])
    stats.update(features[half:], labels[half:])
    return stats.tensors()


def test_exact_simplex_etf_gives_zero_nc1_nc2_nc3():
    means = simplex_etf(4, 6)
    offset = torch.tensor([1., -2, 0.5, 0, 3, 1], dtype=torch.float64)
    labels = torch.arange(4).repeat(5)
    features = means[labels] + offset  # every sample on its class mean
    metrics = neural_collapse(*stats_of(features, labels, 4),
                              heads=dict(main=2.5 * means))
    for key in ('nc1', 'nc2_equinorm', 'nc2_equiangle', 'nc2_etf',
                'nc3_main'):
        assert metrics[key] == pytest.approx(0, abs=1e-9), key


def test_nc1_of_two_classes_by_hand():
    # class means -1 and +1, each sample delta off its mean: Sigma_W =
    # delta^2, Sigma_B = 1, NC1 = tr(Sigma_W Sigma_B^+) / C = delta^2 / 2
    delta = 0.3
    features = torch.tensor([[-1 - delta], [-1 + delta], [1 - delta],
                             [1 + delta]], dtype=torch.float64)
    labels = torch.tensor([0, 0, 1, 1])
    metrics = neural_collapse(*stats_of(features, labels, 2))
    assert metrics['nc1'] == pytest.approx(delta**2 / 2)
    assert metrics['nc2_equinorm'] == pytest.approx(0)


def test_unequal_norms_and_angles_are_measured():
    # means at angles 0, 90, 180 degrees with norms 1, 2, 1 (before
    # centring): neither equinorm nor equiangular
    means = torch.tensor([[1., 0], [0, 2], [-1, 0]], dtype=torch.float64)
    labels = torch.arange(3).repeat(2)
    metrics = neural_collapse(*stats_of(means[labels], labels, 3),
                              heads=dict(aux=torch.eye(3, 2)))
    assert metrics['nc1'] == pytest.approx(0, abs=1e-9)
    centred = means - means.mean(0)
    norms = centred.norm(dim=1)
    assert metrics['nc2_equinorm'] == pytest.approx(
        float(norms.std() / norms.mean()))
    # centred means (1, -2/3), (0, 4/3), (-1, -2/3): the pairs 0-1 and 1-2
    # meet at cosine -(8/9) / (sqrt(13)/3 * 4/3), the pair 0-2 at -5/13
    c01, c02 = -(8 / 9) / (13**0.5 / 3 * 4 / 3), -5 / 13
    cosines = torch.tensor([c01, c02, c01, c01, c02, c01])
    assert metrics['nc2_equiangle'] == pytest.approx(float(cosines.std()))
    assert metrics['nc2_etf'] > 0.1  # an ETF's cosines would all be -1/2
    assert metrics['nc3_aux'] > 0.1


def test_missing_classes_are_left_out_and_one_class_is_an_error():
    means = simplex_etf(3, 4)
    labels = torch.tensor([0, 0, 2, 2])  # class 1 never seen
    metrics = neural_collapse(*stats_of(means[labels], labels, 3))
    assert math.isfinite(metrics['nc1'])
    with pytest.raises(ValueError, match='at least 2 classes'):
        neural_collapse(*stats_of(means[[0, 0]], torch.tensor([0, 0]), 3))


@pytest.mark.slow
def test_hook_logs_nc_metrics_with_the_accuracy(tmp_path):
    cfg = small_project(
        tmp_path, n_train=64, n_test=40,
        extra="custom_hooks = [dict(type='DHKDHook'), "
        "dict(type='NeuralCollapseHook')]\n")
    wd = tmp_path / 'wd'
    proc = run_tool(python_tool(
        'train.py', cfg, '--work-dir', str(wd), '--cfg-options',
        f'model.teacher_ckpt={tmp_path / "teacher.pth"}',
        'model.student.aux_head=linear', 'train_cfg.max_epochs=1'),
        cwd=str(tmp_path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    val_line = [ln for ln in out.splitlines() if 'Epoch(val)' in ln
                and 'top1' in ln][-1]
    for key in ('nc1', 'nc2_etf', 'nc3_main', 'nc3_aux'):
        assert f'{key}: ' in val_line, val_line
    scalars = [json.loads(ln) for ln in
               next(wd.glob('*/vis_data/scalars.json')).read_text()
               .splitlines()]
    logged = [s for s in scalars if 'nc1' in s]
    assert logged and logged[-1]['nc1'] > 0 and 'top1' in logged[-1]
