"""PreemptionHook asks the other ranks whether one was signalled every
``check_interval`` iterations only (an all-reduce is a host sync); in one
process it reads the signal handler's flag, no tensor.  The whole stop and
resume through tools/train.py: tests/e2e/test_preemption.py."""
import multiprocessing
import signal
from types import SimpleNamespace

import pytest
import torch.distributed as dist

from dhkd_det.benchmarks.host_syncs import count_host_syncs
from dhkd_det.engine import PreemptionHook
from dhkd_det.engine.hooks import preemption_hook


class Stopped(Exception):
    pass


def stopping_hook(check_interval):
    """A hook whose stop raises ``Stopped(meta)`` instead of saving."""
    hook = PreemptionHook(check_interval=check_interval)

    def stop(runner, meta):
        raise Stopped(meta)
    hook._stop = stop
    return hook


def runner_at(iteration, iters_per_epoch=100):
    return SimpleNamespace(epoch=0, iter=iteration, max_iters=1000,
                           train_dataloader=range(iters_per_epoch),
                           train_loop=None)


def iterate(hook, signal_at=None, iters=20):
    """Runs the hook's end of iterations 0, 1, ...; the signal arrives
    during iteration ``signal_at``; the meta of the stop, if any."""
    for it in range(iters):
        if it == signal_at:
            hook._note(signal.SIGTERM, None)
        try:
            hook.after_train_iter(runner_at(it), it)
        except Stopped as stopped:
            return stopped.args[0]
    return None


def test_one_process_stops_after_the_signalled_iteration_without_syncs():
    with count_host_syncs('cpu') as syncs:
        meta = iterate(stopping_hook(check_interval=10), signal_at=3)
    assert meta == dict(epoch=0, iter=4)
    assert not syncs


def test_a_validation_inside_training_is_not_started_once_signalled():
    hook = stopping_hook(check_interval=10)
    hook._note(signal.SIGUSR1, None)
    hook.before_val(runner_at(12))  # a validation alone (no training)
    hook._training = True  # as before_train sets it
    with pytest.raises(Stopped) as stopped:
        hook.before_val(runner_at(12))
    # the validation is recorded as pending: the resumed run runs it first
    assert stopped.value.args[0] == dict(epoch=0, iter=12, val_pending=True)


def test_check_interval_must_be_positive():
    with pytest.raises(ValueError, match='check_interval >= 1'):
        PreemptionHook(check_interval=0)


def _rank(rank, store, out):
    """One rank of two: rank 1 alone is signalled during iteration 4."""
    dist.init_process_group('gloo', init_method=f'file://{store}',
                            rank=rank, world_size=2)
    reduces = []
    all_reduce = preemption_hook.all_reduce
    preemption_hook.all_reduce = lambda *a, **k: (
        reduces.append(True), all_reduce(*a, **k))
    try:
        meta = iterate(stopping_hook(check_interval=3),
                       signal_at=4 if rank == 1 else None)
        out.put((rank, meta, len(reduces)))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow  # starts two processes
def test_ranks_agree_every_check_interval_iterations(tmp_path):
    context = multiprocessing.get_context('fork')
    out = context.Queue()
    ranks = [context.Process(target=_rank, args=(r, tmp_path / 'store', out))
             for r in range(2)]
    for p in ranks:
        p.start()
    results = sorted(out.get(timeout=120) for _ in ranks)
    for p in ranks:
        p.join(timeout=60)
        assert p.exitcode == 0
    # signalled in iteration 5 (index 4) on rank 1: both ranks learn it at
    # the next check, after iteration 6, having all-reduced twice (3, 6)
    assert results == [(0, dict(epoch=0, iter=6), 2),
                       (1, dict(epoch=0, iter=6), 2)]
