"""ProgressHook: one line per epoch (after its validation when one follows)
with the epoch's mean loss and the time left, through MMEngine's Runner."""
import re

import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner

from dhkd_det.engine import ProgressHook


class ConstantLoss(BaseModel):
    """loss = mean(batch) * w with w fixed at 1 (lr 0): the logged losses
    are known in advance."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))

    def forward(self, inputs, mode='tensor'):
        x = torch.tensor(inputs)
        if mode == 'loss':
            return dict(loss=x.mean() * self.w)
        return [x]


class FixedTop1(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        return dict(top1=97.5, other=1.0)


def collate(batch):
    return dict(inputs=batch)


def run(tmp_path, hook, epochs=3, val_interval=2,
        runtime_info='RuntimeInfoHook'):
    loader = dict(dataset=[float(i) for i in range(8)], batch_size=2,
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  collate_fn=collate)
    runner = Runner(
        model=ConstantLoss(), work_dir=str(tmp_path), train_dataloader=loader,
        val_dataloader=loader, val_evaluator=[FixedTop1()],
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.0)),
        train_cfg=dict(by_epoch=True, max_epochs=epochs,
                       val_interval=val_interval),
        val_cfg=dict(), custom_hooks=[hook], default_hooks=dict(
            checkpoint=None, logger=None,
            runtime_info=dict(type=runtime_info)), log_level='WARNING')
    runner.train()


def test_a_line_per_epoch_with_mean_loss_and_eta(tmp_path, capsys):
    run(tmp_path, ProgressHook(label='toy'))
    lines = [l for l in capsys.readouterr().out.splitlines()
             if l.startswith('[toy]')]
    # batches of 2 from 0..7 in order: losses 0.5, 2.5, 4.5, 6.5
    assert [l.split('  ')[0] for l in lines] == [
        '[toy] epoch 1/3', '[toy] epoch 2/3', '[toy] epoch 3/3']
    assert all('loss 3.5000' in l for l in lines)
    # validation after epochs 2 (interval) and 3 (the last), on their line
    assert ['top1 97.50' in l for l in lines] == [False, True, True]
    assert all('other' not in l for l in lines)
    etas = [float(re.search(r'ETA (\S+) s', l).group(1)) for l in lines]
    assert etas[-1] == 0 and all(e >= 0 for e in etas)


# the deferred hook, without a logger here, holds the losses until the
# progress line asks for them
@pytest.mark.parametrize('runtime_info',
                         ['RuntimeInfoHook', 'DeferredRuntimeInfoHook'])
def test_lines_inside_an_epoch(tmp_path, capsys, runtime_info):
    run(tmp_path, ProgressHook(label='toy', interval=2), epochs=1,
        val_interval=5, runtime_info=runtime_info)
    lines = [l for l in capsys.readouterr().out.splitlines()
             if l.startswith('[toy]')]
    # iterations 1-2 (losses 0.5, 2.5), then the epoch's last two at its end
    assert lines[0].startswith('[toy] epoch 1/1 iter 2/4  loss 1.5000')
    assert lines[1].startswith('[toy] epoch 1/1  loss 5.5000')
    assert 'top1 97.50' in lines[1]  # the last epoch validates
    assert len(lines) == 2
