"""LossGuardHook stops a run whose loss is not finite or has exploded,
before the state is saved, and reads the losses on the host only every
``interval`` iterations; the checkpoint writer never saves non-finite
weights.  The runs go through the real tools/train.py."""
import math
from types import SimpleNamespace

import pytest
import torch

from cls_utils import python_tool, run_tool, save_teacher, \
    write_override_config
from conftest import make_cifar
from dhkd_det.engine import LossGuardHook

CONFIG = 'configs/dhkd/cifar100_res32x4_res8x4.py'
# epoch 1 at the recipe's lr, then a learning rate that blows the run up
JUMP = '''
param_scheduler = dict(_delete_=True, type='MultiStepLR', by_epoch=True,
                       milestones=[1], gamma={gamma})
'''


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('guard')
    make_cifar(str(root / 'data'), num_classes=10, n_train=32, n_test=16)
    save_teacher(root / 'teacher.pth')
    return root


def train(root, tmp_path, extra):
    cfg = write_override_config(str(tmp_path / 'cfg.py'), CONFIG,
                                str(root / 'data'), extra=extra)
    wd = tmp_path / 'wd'
    proc = run_tool(python_tool(
        'train.py', cfg, '--work-dir', str(wd), '--cfg-options',
        f'model.teacher_ckpt={root / "teacher.pth"}'), cwd=str(tmp_path))
    return proc, wd


def assert_epoch_1_is_the_last_good_one(wd):
    assert not (wd / 'epoch_2.pth').exists()
    assert (wd / 'last_checkpoint').read_text().strip() == \
        str(wd / 'epoch_1.pth')
    state = torch.load(wd / 'epoch_1.pth')['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values()
               if v.is_floating_point())


@pytest.mark.slow
def test_exploding_loss_stops_the_run_before_it_is_saved(setup, tmp_path):
    proc, wd = train(setup, tmp_path, JUMP.format(gamma=1e7))
    assert proc.returncode != 0
    assert 'FloatingPointError: the loss exploded at epoch 2, iteration' \
        in proc.stderr, proc.stderr[-3000:]
    assert 'times its recent level' in proc.stderr
    assert f'the checkpoints in {wd} are the last good ones' in proc.stderr
    assert 'clip_grad' in proc.stderr and '--resume' in proc.stderr
    assert_epoch_1_is_the_last_good_one(wd)


@pytest.mark.slow
def test_non_finite_weights_are_never_saved(setup, tmp_path):
    # without the guard the run goes on to the end of epoch 2 and its
    # checkpoint, whose weights are inf / NaN by then
    proc, wd = train(setup, tmp_path, JUMP.format(gamma=1e36) +
                     "custom_hooks = [dict(type='DHKDHook')]\n")
    assert proc.returncode != 0
    assert 'not saving the checkpoint of epoch 2' in proc.stderr, \
        proc.stderr[-3000:]
    assert 'weights are not finite' in proc.stderr
    assert_epoch_1_is_the_last_good_one(wd)


def fake_runner(iteration, iters_per_epoch=1000):
    return SimpleNamespace(epoch=0, iter=iteration, max_iters=10 ** 6,
                           work_dir='work_dirs/x',
                           train_dataloader=range(iters_per_epoch))


def outputs(total):
    t = torch.tensor(float(total))
    return {'loss': t, 'loss_ce_main': t * 0.5,
            'loss_binary_kl_norm_aux': t * 0.5,
            'teacher_agree': torch.tensor(0.5)}


SYNCS = ('item', 'tolist', 'cpu', 'numpy', '__bool__', '__float__',
         '__int__')


@pytest.fixture
def host_reads(monkeypatch):
    """Counts the tensor methods that make the host wait for the device."""
    calls = []
    for name in SYNCS:
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, _name=name, **kw):
            calls.append(_name)
            return _original(self, *args, **kw)
        monkeypatch.setattr(torch.Tensor, name, counted)
    return calls


@pytest.mark.parametrize('bad, message', [
    (1e6, 'the loss exploded at epoch 1, iteration 8: 1e+06, more than 100 '
          'times its recent level'),
    (math.nan, "non-finite loss at epoch 1, iteration 8: {'loss': nan"),
])
def test_losses_are_read_on_the_host_every_interval(host_reads, bad,
                                                    message):
    hook = LossGuardHook(interval=5)
    for it in range(5):
        hook.after_train_iter(fake_runner(it), it, outputs=outputs(2.0))
        assert host_reads == ([] if it < 4 else ['cpu', 'tolist'])
    host_reads.clear()
    for it, total in zip(range(5, 9), (2.0, 2.0, bad, 2.0)):
        # iteration 8 (index 7) is bad; nothing is read until the window
        # is full or a checkpoint is about to be written
        hook.after_train_iter(fake_runner(it), it, outputs=outputs(total))
    assert host_reads == []
    with pytest.raises(FloatingPointError) as info:
        hook.before_save_checkpoint(fake_runner(8), checkpoint={})
    assert host_reads == ['cpu', 'tolist']
    assert str(info.value).startswith(message)
    assert 'the checkpoints in work_dirs/x are the last good ones' in \
        str(info.value)


def test_recent_level_has_a_floor():
    # a loss near 0 that rises to an ordinary value is not an explosion
    hook = LossGuardHook(interval=4)
    for it, total in enumerate((1e-4, 1e-4, 1e-4, 50.0)):
        hook.after_train_iter(fake_runner(it), it, outputs=outputs(total))
    with pytest.raises(FloatingPointError, match='exploded'):
        for it in range(4, 8):
            hook.after_train_iter(fake_runner(it), it,
                                  outputs=outputs(1e4))


def test_a_number_among_the_losses_joins_them_on_their_device(host_reads):
    # the meta device stands in for a GPU: a loss given as a Python number
    # is filled in where the tensors are, not made on the host (which could
    # not be stacked with them)
    hook = LossGuardHook(interval=5)
    losses = {'loss': torch.ones((), device='meta'), 'loss_const': 0.5}
    hook.after_train_iter(fake_runner(0), 0, outputs=losses)
    assert hook._buf.device.type == 'meta'
    assert host_reads == []
