"""RngStateHook: a resumed run draws the random numbers the uninterrupted
run would have drawn, so that on the CPU it is bit-identical to it.

MMEngine's resume only seeds the generators again, as at the start of the
run: the augmentation of every later step then differs.  This hook puts in
every checkpoint the state of each generator a training step draws from
(Python's ``random``, NumPy's global one, torch's CPU generator and the
current CUDA device's, which the batched augmentation of
``ClsDataPreprocessor`` uses) and the train sampler's shuffling seed, and
restores them where the uninterrupted run stood:

* after a checkpoint at the end of an epoch: before training goes on (the
  next epoch's data loader then draws its seed as it would have);
* after a checkpoint mid-epoch (``PreemptionHook``): at the next step,
  after the data loader of the rest of the epoch drew its seed.

Under DDP every rank's states are saved (gathered in
``before_save_checkpoint_every_rank``, which our checkpoint writers call on
every rank), and each rank gets its own back: with
``randomness.diff_rank_seed=True`` the ranks draw different augmentation,
and a resumed rank drawing another rank's numbers would no longer be the
uninterrupted run.  A checkpoint of another number of ranks (or of a writer
that gathers nothing, e.g. MMEngine's ``CheckpointHook``) restores rank 0's
states on every rank where the ranks draw alike, and none (with a warning)
under ``diff_rank_seed``.

Validation draws from the generators too (its data loader's seed), and a
resumed run does not repeat the validation that followed its checkpoint:
so the generators are put back after every validation, and validation does
not change what training draws.  Random transforms in data loader worker
processes are not covered (each worker is seeded when it starts).
"""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from .preemption_hook import BATCHES_DONE

#: the checkpoint key the states are saved under
RNG_KEY = 'rng_state'


def capture() -> dict:
    """The state of every generator a training step draws from, in types
    ``torch.load(weights_only=True)`` reads."""
    numpy_state = np.random.get_state(legacy=False)
    state = dict(
        python=random.getstate(),
        numpy=dict(numpy_state, state=dict(
            key=torch.from_numpy(
                numpy_state['state']['key'].astype(np.int64)),
            pos=numpy_state['state']['pos'])),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        # the device of this process: under DDP each rank's
        state['cuda'] = torch.cuda.get_rng_state()
    return state


def restore(state: dict) -> None:
    random.setstate(state['python'])
    numpy_state = dict(state['numpy'])
    numpy_state['state'] = dict(
        key=numpy_state['state']['key'].numpy().astype(np.uint32),
        pos=numpy_state['state']['pos'])
    np.random.set_state(numpy_state)
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state['cuda'])


def _train_sampler(runner):
    loader = runner.train_dataloader
    return getattr(loader.batch_sampler, 'sampler', None) or loader.sampler


@HOOKS.register_module()
class RngStateHook(Hook):
    """Added to every run by ``tools/train.py``."""
    # its after_train_epoch restores before the checkpoint hook saves
    priority = 'VERY_HIGH'

    def __init__(self):
        self._saved: Optional[dict] = None  # to restore, from --resume
        self._sampler_seed = None  # to set, from --resume
        self._mid_epoch = False
        self._outside_val: Optional[dict] = None
        self._every_rank: Optional[list] = None  # for the next save

    def before_val(self, runner) -> None:
        self._outside_val = capture()

    def after_val(self, runner) -> None:
        restore(self._outside_val)
        self._outside_val = None

    def before_save_checkpoint_every_rank(self, runner) -> None:
        if get_world_size() > 1:
            self._every_rank = all_gather_object(self._state_to_save())

    def _state_to_save(self) -> dict:
        # saved during a validation (a new best, a preemption): the state
        # training goes on from
        return self._outside_val or capture()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        seed = getattr(_train_sampler(runner), 'seed', None)
        saved = dict(self._state_to_save(), sampler_seed=seed)
        if self._every_rank is not None:
            saved['ranks'] = self._every_rank  # rank 0's is saved twice
            self._every_rank = None
        checkpoint[RNG_KEY] = saved

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if runner.cfg.get('resume') and RNG_KEY in checkpoint:
            saved = checkpoint[RNG_KEY]
            self._sampler_seed = saved.get('sampler_seed')
            self._saved = self._state_of_this_rank(runner, saved)
            self._mid_epoch = bool(
                checkpoint['meta'].get(BATCHES_DONE))

    @staticmethod
    def _state_of_this_rank(runner, saved: dict) -> Optional[dict]:
        """This rank's states in ``saved``; None where it holds none that
        are this rank's (not restored: the rank keeps its seeding)."""
        ranks, world = saved.get('ranks'), get_world_size()
        if ranks is not None and len(ranks) == world:
            return ranks[get_rank()]
        randomness = runner.cfg.get('randomness') or {}
        if world == 1 or not randomness.get('diff_rank_seed', False):
            return saved  # rank 0's, and every rank drew alike
        runner.logger.warning(
            '--resume: randomness.diff_rank_seed=True, but the checkpoint '
            'holds the generator states of '
            + (f'{len(ranks)} ranks, this run has {world}' if ranks else
               'rank 0 only (written by an earlier version or by a '
               'checkpoint hook that does not gather them)')
            + ': each rank keeps its own seeding instead, so the resumed '
            'run draws other random numbers than an uninterrupted one '
            '(not bit-identical to it)')
        return None

    def before_train(self, runner) -> None:
        sampler = _train_sampler(runner)
        if self._sampler_seed is not None and hasattr(sampler, 'seed'):
            sampler.seed = self._sampler_seed
            self._sampler_seed = None
        if not self._mid_epoch:
            self._restore()

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        self._restore()

    def after_train_epoch(self, runner) -> None:
        # a resumed epoch whose batches were all trained before
        self._restore()

    def _restore(self) -> None:
        if self._saved is not None:
            restore(self._saved)
            self._saved = None
