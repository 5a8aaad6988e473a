"""A training iteration of the DHKD config, through MMEngine's runner with
the hooks tools/train.py runs (the config's LossGuardHook, PreemptionHook
and the other always-on hooks, the LR scheduler, the runtime-info hook),
reads nothing to the host but at the logger's interval: at most 0.1 host
syncs per iteration, counted as gpu_check --smoke counts them on the CPU;
the captured step (model.cuda_graph, uncaptured on CPU) too."""
import pytest
from mmengine.hooks import Hook

from dhkd_det.apis import build_runner
from dhkd_det.apis.always_on_hooks import add_always_on_hooks
from dhkd_det.apis.runner import run_config
from dhkd_det.benchmarks.host_syncs import count_host_syncs, summarise_syncs
from dhkd_det.testing import save_teacher, write_random_cifar
from dhkd_det.utils.paths import REPO

CONFIG = f'{REPO}/configs/dhkd/cifar100_res32x4_res8x4.py'
ITERS, LOG_INTERVAL = 100, 50


class CountIterationSyncs(Hook):
    """Counts the host syncs from the start of the first iteration to the
    end of the last one's hooks (the set-up and the checkpoint written
    after the epoch are not a training iteration's)."""
    priority = 'LOWEST'

    def before_train(self, runner):
        self._counting = count_host_syncs('cpu')
        self.syncs = self._counting.__enter__()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if self.is_last_train_iter(runner):
            self._counting.__exit__(None, None, None)


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp('syncs')
    # batches of 2: one epoch of ITERS iterations
    write_random_cifar(str(root / 'data'), num_classes=10,
                       n_train=2 * ITERS, n_test=4)
    save_teacher(root / 'teacher.pth')
    return root


@pytest.mark.parametrize('wrapper, cuda_graph', [
    ('OptimWrapper', False), ('GradAlignOptimWrapper', False),
    ('BF16OptimWrapper', False), ('GradAlignOptimWrapper', True)])
def test_an_iteration_reads_nothing_between_log_lines(project, wrapper,
                                                      cuda_graph):
    data = dict(data_root=str(project / 'data'), check_md5=False)
    cfg = run_config(CONFIG, {
        'model.student.network': dict(type='resnet8', num_classes=10),
        'model.teacher': dict(type='resnet8', num_classes=10),
        'model.teacher_ckpt': str(project / 'teacher.pth'),
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset': data,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'val_dataloader.dataset': data,
        'train_cfg.max_epochs': 1,
        'default_hooks.logger.interval': LOG_INTERVAL,
        'optim_wrapper.type': wrapper,
        'model.cuda_graph': cuda_graph,
        'randomness.seed': 0,
    }, str(project / f'{wrapper}_{cuda_graph}'),
        name=f'syncs_{wrapper}_{cuda_graph}')
    add_always_on_hooks(cfg)
    runner = build_runner(cfg)
    counter = CountIterationSyncs()
    runner.register_hook(counter)
    runner.train()
    hooks = {type(h).__name__ for h in runner.hooks}
    assert {'DeferredRuntimeInfoHook', 'LossGuardHook', 'PreemptionHook',
            'ParamSchedulerHook'} <= hooks
    assert type(runner.optim_wrapper).__name__ == wrapper
    per_iter = summarise_syncs(counter.syncs, ITERS)
    assert per_iter['per_iter'] <= 0.1, per_iter['per_iter_by_caller']
