"""Live curves: PlotCurvesHook draws the PNG curves at every validation
while training (in a background thread), and when a run stops early (a crash, a preemption), not
only after training; MMEngine's TensorBoard backend, listed by our configs,
writes event files where TensorBoard is installed and stays out of the way
where it is not.  Through MMEngine's Runner on a toy model."""
import glob
import os
import signal
import sys

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner

from dhkd_det.engine import PlotCurvesHook, PreemptionHook
from dhkd_det.engine.hooks.preemption_hook import PREEMPTED_EXIT_CODE
from dhkd_det.utils.paths import REPO


class Toy(BaseModel):

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))

    def forward(self, inputs, mode='tensor'):
        x = torch.tensor(inputs)
        if mode == 'loss':
            return dict(loss=(x.mean() * self.w) ** 2)
        return [x]


class Top1(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        return dict(top1=50.0)


class PlotsSeen(Hook):
    """Records, at the start of each epoch, which curves are on disk once
    the curve hook's background drawing is done."""
    priority = 'LOWEST'

    def __init__(self, curves):
        self.curves, self.seen = curves, {}

    def before_train_epoch(self, runner):
        self.curves.wait()
        self.seen[runner.epoch + 1] = sorted(
            os.path.basename(p) for p in
            glob.glob(os.path.join(runner.work_dir, 'plots', '*.png')))


class StopAt(Hook):
    """Raises, or signals this process, after a given iteration."""
    priority = 'VERY_HIGH'

    def __init__(self, iteration, signum=None):
        self.iteration, self.signum = iteration, signum

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.iteration:
            if self.signum is None:
                raise RuntimeError('injected crash')
            os.kill(os.getpid(), self.signum)


def collate(batch):
    return dict(inputs=batch)


def runner(tmp_path, hooks, epochs=3, vis_backends=None):
    loader = dict(dataset=[float(i) for i in range(8)], batch_size=2,
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  collate_fn=collate)
    return Runner(
        model=Toy(), work_dir=str(tmp_path), train_dataloader=loader,
        val_dataloader=loader, val_evaluator=[Top1()],
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.001)),
        train_cfg=dict(by_epoch=True, max_epochs=epochs, val_interval=1),
        val_cfg=dict(), custom_hooks=hooks,
        default_hooks=dict(checkpoint=None,
                           logger=dict(type='LoggerHook', interval=1)),
        visualizer=dict(type='Visualizer', name=f'vis_{tmp_path.name}',
                        vis_backends=vis_backends or [
                            dict(type='LocalVisBackend')]),
        experiment_name=f'run_{tmp_path.name}', log_level='WARNING')


def plots(tmp_path):
    return sorted(os.path.basename(p)
                  for p in glob.glob(str(tmp_path / 'plots' / '*.png')))


def test_curves_at_every_validation(tmp_path):
    curves = PlotCurvesHook()
    seen = PlotsSeen(curves)
    runner(tmp_path, [curves, seen]).train()
    # epoch 1's validation drew them before epoch 2 began
    assert seen.seen[1] == []
    assert {'accuracy.png', 'losses.png'} <= set(seen.seen[2])
    assert {'accuracy.png', 'losses.png'} <= set(plots(tmp_path))


def test_curves_when_the_run_crashes(tmp_path):
    run = runner(tmp_path, [PlotCurvesHook(interval=0), StopAt(6)])
    with pytest.raises(RuntimeError, match='injected crash'):
        run.train()
    # no validation drawing (interval 0), no end of training: the crash
    # drew them, with the validation of epoch 1 and the losses of epoch 2
    assert {'accuracy.png', 'losses.png'} <= set(plots(tmp_path))


def test_curves_when_the_run_is_preempted(tmp_path):
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM,
                                                 signal.SIGUSR1)}
    run = runner(tmp_path, [PlotCurvesHook(interval=0), PreemptionHook(),
                            StopAt(3, signal.SIGTERM)],
                 vis_backends=[dict(type='LocalVisBackend')])
    try:
        with pytest.raises(SystemExit) as stop:
            run.train()
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert stop.value.code == PREEMPTED_EXIT_CODE
    assert glob.glob(str(tmp_path / 'preempted_iter_3.pth'))
    assert 'losses.png' in plots(tmp_path)


def test_a_validation_alone_draws_nothing(tmp_path):
    run = runner(tmp_path, [PlotCurvesHook()], epochs=1)
    run.val()
    assert plots(tmp_path) == []


def test_tensorboard_events_where_installed(tmp_path):
    pytest.importorskip('tensorboard')
    runner(tmp_path, [], epochs=1, vis_backends=[
        dict(type='LocalVisBackend'),
        dict(type='OptionalTensorboardVisBackend')]).train()
    assert glob.glob(str(tmp_path / '*' / 'vis_data' / 'events.out.*'))


def test_without_tensorboard_the_run_goes_on(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'torch.utils.tensorboard', None)
    run = runner(tmp_path, [PlotCurvesHook()], epochs=1, vis_backends=[
        dict(type='LocalVisBackend'),
        dict(type='OptionalTensorboardVisBackend')])
    backend = run.visualizer.get_backend('OptionalTensorboardVisBackend')
    assert not backend.enabled and backend.experiment is None
    run.train()
    assert not glob.glob(str(tmp_path / '*' / 'vis_data' / 'events.out.*'))
    assert glob.glob(str(tmp_path / '*' / 'vis_data' / 'scalars.json'))
    assert 'accuracy.png' in plots(tmp_path)


@pytest.mark.parametrize('config', [
    'configs/dhkd/cifar100_res32x4_res8x4.py',
    'configs/dhkd/coco_faster_rcnn_r101_r50.py'])
def test_configs_list_tensorboard_and_the_curves(config):
    if 'coco' in config:
        pytest.importorskip('mmdet')
    cfg = Config.fromfile(os.path.join(REPO, config))
    types = [b['type'] for b in cfg.visualizer.vis_backends]
    assert types == ['LocalVisBackend', 'OptionalTensorboardVisBackend']
    assert cfg.default_hooks.curves.type == 'PlotCurvesHook'


def test_a_scalar_line_being_written_is_not_damage(tmp_path):
    from dhkd_det.analysis import read_run
    session = tmp_path / '20260101_000000' / 'vis_data'
    session.mkdir(parents=True)
    (session / 'scalars.json').write_text(
        '{"iter": 1, "loss": 1.0}\n{"step": 1, "top1": 5.0}\n{"iter": 2, "lo')
    run = read_run(str(tmp_path), live=True)
    assert [r['iter'] for r in run.train] == [1] and len(run.val) == 1
    with pytest.raises(ValueError, match='line 3: not JSON'):
        read_run(str(tmp_path))
