import pytest
import torch
from mmengine.registry import METRICS

from dhkd_det.evaluation import ClsAccuracy


def _sample(gt, **topk):
    return dict(
        gt_label=torch.tensor(gt),
        topk={head: torch.tensor(idx) for head, idx in topk.items()})


def _evaluate(metric, samples, batch_size=2):
    for start in range(0, len(samples), batch_size):
        metric.process(None, samples[start:start + batch_size])
    return metric.evaluate(len(samples))


def test_main_head_only():
    metric = METRICS.build(dict(type='ClsAccuracy', topk=(1, 5)))
    assert isinstance(metric, ClsAccuracy)
    samples = [
        _sample(3, main=[3, 1, 2, 0, 4]),  # top1 and top5
        _sample(0, main=[3, 1, 2, 0, 4]),  # top5 only
        _sample(7, main=[3, 1, 2, 0, 4]),  # neither
        _sample(4, main=[4, 1, 2, 0, 3]),  # top1 and top5
    ]
    assert _evaluate(metric, samples) == pytest.approx(dict(top1=50.0,
                                                            top5=75.0))


def test_every_head_is_reported():
    metric = ClsAccuracy(topk=(1, 2))
    samples = [
        _sample(1, main=[1, 0, 2], aux=[0, 1, 2], teacher=[1, 2, 0]),
        _sample(2, main=[0, 2, 1], aux=[0, 1, 2], teacher=[2, 1, 0]),
        _sample(0, main=[1, 2, 0], aux=[0, 2, 1], teacher=[2, 0, 1]),
    ]
    assert _evaluate(metric, samples) == pytest.approx({
        'top1': 100 / 3,
        'top2': 200 / 3,
        'aux/top1': 100 / 3,
        'aux/top2': 200 / 3,
        'teacher/top1': 200 / 3,
        'teacher/top2': 100.0,
    })


def test_k_beyond_the_predictions_is_skipped():
    metric = ClsAccuracy(topk=(1, 5))
    samples = [_sample(1, main=[1, 0], aux=[0, 1]), _sample(0, main=[1, 0],
                                                            aux=[0, 1])]
    assert _evaluate(metric, samples) == pytest.approx({
        'top1': 50.0,
        'aux/top1': 50.0
    })


def test_prefix_and_int_topk():
    metric = ClsAccuracy(topk=1, prefix='cifar')
    metrics = _evaluate(metric, [_sample(2, main=[2])])
    assert metrics == {'cifar/top1': 100.0}


def test_rejects_non_positive_k():
    with pytest.raises(ValueError, match='topk'):
        ClsAccuracy(topk=(0, 1))


def test_results_do_not_hold_the_batch_tensor():
    batch = torch.arange(40).view(8, 5)
    metric = ClsAccuracy()
    metric.process(None, [dict(gt_label=torch.tensor(0), topk={'main': row})
                          for row in batch])
    stored = metric.results[0]['topk']['main']
    assert stored.untyped_storage().nbytes() == 5 * stored.element_size()
