"""DeferredRuntimeInfoHook fills the message hub, the log and the
checkpoints exactly as MMEngine's RuntimeInfoHook does, while reading the
step's outputs to the host only when something reads them."""
import json
import re

import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner

from dhkd_det.benchmarks.host_syncs import count_host_syncs
from dhkd_det.engine import DeferredRuntimeInfoHook

ITERS_PER_EPOCH, EPOCHS, LOG_INTERVAL = 10, 3, 3


class ScriptedOutputs(BaseModel):
    """A step whose logged outputs are known from the batch (the index of
    the sample, batches of 1, lr 0): a float loss, a loss that vanishes
    for a few iterations of each epoch and one that appears late, an
    integer tensor, a bfloat16 tensor and a plain Python number."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))

    def train_step(self, data, optim_wrapper):
        i = data['inputs'][0]
        loss_a = self.w * (i + 1) / 7
        outputs = dict(loss_a=loss_a)
        if not 4 <= i <= 6:
            outputs['loss_b'] = self.w * 0.1 * i
        if i >= 8:
            outputs['loss_late'] = self.w / 3
        outputs['count'] = torch.tensor(i * 1000003)
        outputs['half'] = torch.tensor(i / 9, dtype=torch.bfloat16)
        outputs['number'] = i / 11
        optim_wrapper.update_params(sum(v for k, v in outputs.items()
                                        if k.startswith('loss')))
        return {k: v.detach() if torch.is_tensor(v) else v
                for k, v in outputs.items()}

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return [torch.tensor(inputs)]


class Top1(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        return dict(top1=50.0)


class HubAtLogs(Hook):
    """The hub's train/* scalars (without the timer's) right after the
    logger has read them, at every logged iteration."""
    priority = 'LOW'  # after LoggerHook

    def __init__(self):
        self.seen = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if (batch_idx + 1) % LOG_INTERVAL == 0 or \
                batch_idx + 1 == ITERS_PER_EPOCH:
            self.seen.append((runner.iter, scalars(runner.message_hub)))


def scalars(hub) -> dict:
    """``log_scalars`` as comparable lists, in the hub's key order, but
    the timer's."""
    state = hub.state_dict() if hasattr(hub, 'state_dict') else hub
    return {k: [v.data[0].tolist(), v.data[1].tolist()]
            for k, v in state['log_scalars'].items()
            if k.rpartition('/')[2] not in ('time', 'data_time')}


def collate(batch):
    return dict(inputs=batch)


def train(work_dir, runtime_info):
    loader = dict(dataset=list(range(ITERS_PER_EPOCH)), batch_size=1,
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  collate_fn=collate)
    at_logs = HubAtLogs()
    runner = Runner(
        model=ScriptedOutputs(), work_dir=str(work_dir),
        experiment_name=f'{runtime_info}-{work_dir.parent.name}',
        train_dataloader=loader, val_dataloader=loader, val_cfg=dict(),
        val_evaluator=[Top1()],
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.0)),
        train_cfg=dict(by_epoch=True, max_epochs=EPOCHS, val_interval=1),
        default_hooks=dict(
            runtime_info=dict(type=runtime_info),
            logger=dict(type='LoggerHook', interval=LOG_INTERVAL),
            # every 4 iterations: mid-epoch, between two log lines
            checkpoint=dict(type='CheckpointHook', interval=4,
                            by_epoch=False)),
        custom_hooks=[at_logs], randomness=dict(seed=0))
    runner.train()
    return runner, at_logs.seen


def log_lines(runner):
    """The text log's training and validation lines and the json log,
    without the fields that measure time."""
    text = open(f'{runner.log_dir}/{runner.timestamp}.log').read()
    lines = [re.sub(r'  (eta|time|data_time): \S+', '', line.split(' - ')[-1])
             for line in text.splitlines() if 'Epoch(' in line]
    records = [json.loads(line) for line in open(
        f'{runner.log_dir}/vis_data/scalars.json')]
    for record in records:
        for key in ('time', 'data_time'):
            record.pop(key, None)
    return lines, records


def test_the_hub_the_logs_and_the_checkpoints_are_mmengines(tmp_path):
    ours, ours_at_logs = train(tmp_path / 'ours',
                               'DeferredRuntimeInfoHook')
    mmengine, mmengine_at_logs = train(tmp_path / 'mmengine',
                                       'RuntimeInfoHook')
    # the hook is the one that ran
    assert any(isinstance(h, DeferredRuntimeInfoHook) for h in ours.hooks)
    assert len(ours_at_logs) == EPOCHS * 4
    for (it, got), (it_mm, want) in zip(ours_at_logs, mmengine_at_logs):
        assert it == it_mm
        assert list(got) == list(want), it  # keys in the same order too
        assert got == want, it
    final = scalars(ours.message_hub)
    assert final == scalars(mmengine.message_hub)
    assert 'train/loss_late' in final and 'train/count' in final
    assert isinstance(final['train/count'][0][-1], int)
    ours_lines, ours_json = log_lines(ours)
    mm_lines, mm_json = log_lines(mmengine)
    assert len(ours_lines) == len(mm_lines) > EPOCHS * 4
    assert ours_lines == mm_lines
    assert ours_json == mm_json
    # iteration checkpoints mid-epoch: the hub they hold is complete
    for n in (4, 8, 28):
        got = torch.load(tmp_path / 'ours' / f'iter_{n}.pth')
        want = torch.load(tmp_path / 'mmengine' / f'iter_{n}.pth')
        assert scalars(got['message_hub']) == \
            scalars(want['message_hub']), n
        assert len(scalars(got['message_hub'])['train/loss_a'][0]) == n


def test_the_host_reads_once_per_flush(tmp_path):
    with count_host_syncs('cpu') as mmengine:
        train(tmp_path / 'mmengine', 'RuntimeInfoHook')
    with count_host_syncs('cpu') as ours:
        train(tmp_path / 'ours', 'DeferredRuntimeInfoHook')
    hook = 'dhkd_det.engine.hooks.deferred_runtime_info_hook'
    reads = sum(n for where, n in ours.items() if where.startswith(hook))
    # MMEngine: one read per tensor output per iteration
    tensors = [3 + (not 4 <= i <= 6) + (i >= 8)
               for i in range(ITERS_PER_EPOCH)]
    assert sum(n for where, n in mmengine.items()
               if where.startswith('mmengine.logging.message_hub')) == \
        EPOCHS * sum(tensors)
    assert not any(where.startswith('mmengine.logging.message_hub')
                   for where in ours)
    # ours: the first iteration; per epoch 3 log lines and its end; the
    # checkpoints at 4, 16, 20 and 28 (8, 12 and 24 follow a log line or
    # an epoch end); loss_b vanishing and coming back, loss_late appearing
    assert reads <= 1 + EPOCHS * 4 + 4 + EPOCHS * 3, ours


def test_max_pending_bounds_the_buffer():
    with pytest.raises(ValueError, match='max_pending >= 1'):
        DeferredRuntimeInfoHook(max_pending=0)
