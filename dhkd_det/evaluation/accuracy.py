"""Top-k accuracy of every head a classifier predicts with."""
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.evaluator import BaseMetric
from mmengine.registry import METRICS

MAIN_HEAD = 'main'


@METRICS.register_module()
class ClsAccuracy(BaseMetric):
    """Top-k accuracy (%) of the main head and of any other head predicted.

    Each prediction is ``{'gt_label': LongTensor () or int, 'topk':
    {'main': LongTensor (k,), 'aux': ..., 'teacher': ...}}``, the indices of
    the k highest logits, best first. Results are named ``top{k}`` for the
    main head and ``{head}/top{k}`` for the others; a k larger than the
    number of indices given is skipped (e.g. top5 with 3 classes).

    Args:
        topk (int or Sequence[int]): the k values to report.
        collect_device, prefix: see ``BaseMetric``.
    """
    # no prefix by default: the keys are `top1`, `aux/top1` (save_best='top1')
    default_prefix = ''

    def __init__(self,
                 topk: Union[int, Sequence[int]] = (1, 5),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if not self.topk or min(self.topk) < 1:
            raise ValueError(f'topk must be positive integers, got {topk}')

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            # a copy, not a view: a view would keep (and, when results are
            # collected across ranks, pickle) its whole batch tensor
            self.results.append(
                dict(
                    gt_label=int(sample['gt_label']),
                    topk={
                        head: indices.detach().to('cpu', copy=True)
                        for head, indices in sample['topk'].items()
                    }))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        gt = torch.tensor([r['gt_label'] for r in results])
        metrics = {}
        for head in results[0]['topk']:
            pred = torch.stack([r['topk'][head] for r in results])
            correct = pred == gt[:, None]
            name = '' if head == MAIN_HEAD else f'{head}/'
            for k in self.topk:
                if k <= pred.shape[1]:
                    metrics[f'{name}top{k}'] = (
                        correct[:, :k].any(1).float().mean().item() * 100)
        return metrics
