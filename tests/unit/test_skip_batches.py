"""The batch sampler of a resumed epoch (``PreemptionHook``): the batches
after those trained before the stop, and never a negative length."""
from torch.utils.data import BatchSampler, SequentialSampler

from dhkd_det.engine.hooks.preemption_hook import _SkipBatches


def batches(n_images, batch_size):
    return BatchSampler(SequentialSampler(range(n_images)), batch_size,
                        drop_last=False)


def test_the_batches_after_the_skipped_ones():
    rest = _SkipBatches(batches(10, 4), 1)
    assert list(rest) == [[4, 5, 6, 7], [8, 9]]
    assert len(rest) == 2


def test_skipping_more_batches_than_an_epoch_has_is_empty_not_negative():
    rest = _SkipBatches(batches(10, 4), 5)
    assert list(rest) == []
    assert len(rest) == 0
