"""PreemptionHook: a run told to stop (SIGTERM: preemption, ``scancel``,
torchrun's shutdown; SIGUSR1: slurm's ``--signal`` before the time limit)
finishes its iteration, writes a checkpoint and exits with
``PREEMPTED_EXIT_CODE``; ``--resume`` continues it mid-epoch.

Without it the process dies at once (exit 143) and the newest checkpoint
can be ``interval - 1`` epochs old.  The checkpoint, ``preempted_iter_<N>.pth``
in the work dir, is written atomically and named by ``last_checkpoint``; its
meta says how many batches of the epoch were done, and the resumed run skips
them (through the sampler's indices: no data is loaded for them) instead of
training the whole epoch again.
"""
import glob
import os
import os.path as osp
import signal
import threading
from itertools import islice

import torch
from mmengine.device import get_device
from mmengine.dist import (all_reduce, barrier, get_world_size,
                           is_main_process)
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from ...checkpoint.atomic_file import atomic_path, atomic_write_text
from ..save_event import before_save_on_every_rank

#: the exit status of a preempted run: sysexits' EX_TEMPFAIL, "a temporary
#: failure: try again" (tools/slurm_sbatch.sh requeues the job on it)
PREEMPTED_EXIT_CODE = 75
#: a checkpoint's meta key: the batches of its epoch that were trained
BATCHES_DONE = 'epoch_batches_done'
#: a checkpoint's meta key: the batches an epoch of the run had (on each
#: rank), which a mid-epoch resume must find again
EPOCH_BATCHES = 'epoch_batches'
#: a checkpoint's meta key: written where training was done up to a
#: validation that had not run yet (the resumed run runs it first)
VAL_PENDING = 'val_pending'
STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)
#: where set, the file every process of a preempted run writes the
#: checkpoint's path to: tools/dist_train.sh exits with
#: ``PREEMPTED_EXIT_CODE`` when it was written, although torchrun itself
#: reports a failure once a process ended with it
PREEMPTED_FILE_ENV = 'DHKD_PREEMPTED_FILE'


class Preempted(SystemExit):
    """Raised to end the process once the preemption checkpoint is on
    disk; its exit status is ``PREEMPTED_EXIT_CODE``."""

    def __init__(self):
        super().__init__(PREEMPTED_EXIT_CODE)


class _SkipBatches:
    """A batch sampler without its first ``skip`` batches (only their
    indices are drawn)."""

    def __init__(self, batch_sampler, skip: int):
        self.batch_sampler, self.skip = batch_sampler, skip
        self.sampler = getattr(batch_sampler, 'sampler', None)

    def __iter__(self):
        return islice(iter(self.batch_sampler), self.skip, None)

    def __len__(self):
        return max(0, len(self.batch_sampler) - self.skip)


def _remaining(loader: DataLoader, skip: int) -> DataLoader:
    """``loader`` for one epoch, from batch ``skip`` on."""
    extra = dict(prefetch_factor=loader.prefetch_factor) \
        if loader.num_workers else {}
    return DataLoader(
        loader.dataset, batch_sampler=_SkipBatches(loader.batch_sampler, skip),
        num_workers=loader.num_workers, collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory, timeout=loader.timeout,
        worker_init_fn=loader.worker_init_fn,
        multiprocessing_context=loader.multiprocessing_context,
        generator=loader.generator, **extra)


@HOOKS.register_module()
class PreemptionHook(Hook):
    """Added to every run by ``tools/train.py``.

    In one process the signal handler's flag is read after every iteration
    (no tensor, no host sync).  Under DDP every rank stops at the same
    iteration: whether one was signalled is all-reduced (a one-element
    tensor, read to the host: a sync) every ``check_interval`` iterations,
    at the end of every epoch and of training, and before and after each
    validation; the ranks iterate in lock step, so they all reduce at the
    same ones.  A signal is so acted on at most ``check_interval``
    iterations late (a few seconds at most; slurm's ``--signal`` warns
    180 s ahead).

    Args:
        check_interval: iterations between the all-reduces under DDP.
    """
    # after the iteration's other hooks (schedulers, logger, checkpoints)
    priority = 'VERY_LOW'

    def __init__(self, check_interval: int = 10):
        if check_interval < 1:
            raise ValueError('PreemptionHook needs check_interval >= 1, got '
                             f'{check_interval}')
        self.check_interval = check_interval
        self._signal = None
        self._training = False  # a validation alone is never stopped
        self._previous = {}
        self._skip = 0
        self._saved_batches = None
        self._val_pending = False
        self._whole_loader = None

    def _note(self, signum, frame) -> None:
        self._signal = signum  # acted on at the end of the iteration

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if runner.cfg.get('resume'):
            self._skip = checkpoint['meta'].get(BATCHES_DONE, 0)
            # None in checkpoints of earlier versions
            self._saved_batches = checkpoint['meta'].get(EPOCH_BATCHES)
            self._val_pending = checkpoint['meta'].get(VAL_PENDING, False)

    def before_train(self, runner) -> None:
        self._training = True
        # signal handlers can only be set from the main thread
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._note)
        if self._skip:
            self._check_epoch_length(runner)
        if self._val_pending:
            self._val_pending = False
            self._validate_pending(runner)

    def _validate_pending(self, runner) -> None:
        """The validation the run that wrote the checkpoint was stopped
        before (a signal during the epoch's checkpoint save, or just
        before the validation): run now, before training goes on, so that
        the run's validations, its best checkpoint and its last metrics
        are those of an uninterrupted run.  Every other hook's
        ``before_train`` has run (this hook's priority is VERY_LOW) except
        those of priority LOWEST; ``RngStateHook`` puts the generators back
        after it, as after any validation."""
        step = f'epoch {runner.epoch}' if isinstance(
            runner.train_loop, EpochBasedTrainLoop) else \
            f'iteration {runner.iter}'
        if runner.val_loop is None:
            runner.logger.warning(
                f'--resume: the run that wrote the checkpoint stopped before '
                f'validating {step}, and this config has no validation: '
                'that validation is left out')
            return
        runner.logger.info(
            f'--resume: validating {step} first: the run that wrote the '
            'checkpoint stopped before its validation')
        runner.val_loop.run()

    def _check_epoch_length(self, runner) -> None:
        """Refuse a mid-epoch resume whose epochs have another number of
        batches than the run that wrote the checkpoint: the batches skipped
        would not be the ones trained (images trained twice or never), and
        an epoch could be left with nothing to train."""
        batches = len(runner.train_dataloader)
        saved = self._saved_batches
        if saved is None:
            # a checkpoint of an earlier version: its iteration tells, except
            # in the first epoch (where it equals the batches done whatever
            # the epoch's length) unless the batches done are too many.  All
            # of them done: stopped after the epoch's last batch
            fits = runner.iter - runner.epoch * batches == self._skip and \
                self._skip <= batches
            of = ''
        else:
            fits = saved == batches and self._skip <= batches
            of = f' of {saved}'
        if fits:
            return
        raise ValueError(
            f'--resume: the checkpoint was written after batch {self._skip}'
            f'{of} of epoch {runner.epoch + 1}, at iteration {runner.iter}, '
            f'but the epochs of this run have {batches} batches: the data '
            'set, the batch size or the number of GPUs differs from the run '
            'that wrote it, and its batches done cannot be skipped. Resume '
            'with that set-up, or from an epoch checkpoint (--resume '
            'WORK_DIR/epoch_<N>.pth).')

    def before_train_epoch(self, runner) -> None:
        if self._skip:
            loop = runner.train_loop
            self._whole_loader = loop.dataloader
            loop.dataloader = _remaining(loop.dataloader, self._skip)
            runner.logger.info(
                f'resuming epoch {runner.epoch + 1} after its batch '
                f'{self._skip}: skipping the batches trained before')
            self._skip = 0

    def after_train_epoch(self, runner) -> None:
        if self._whole_loader is not None:
            runner.train_loop.dataloader = self._whole_loader
            self._whole_loader = None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if not self._asked_to_stop(
                self.every_n_train_iters(runner, self.check_interval) or
                self.end_of_epoch(runner.train_dataloader, batch_idx) or
                self.is_last_train_iter(runner)):
            return
        meta = dict(epoch=runner.epoch, iter=runner.iter + 1)
        # an iteration-based loop skips the trained batches by itself
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            batches = len(self._whole_loader or runner.train_dataloader)
            meta[BATCHES_DONE] = runner.iter + 1 - runner.epoch * batches
            meta[EPOCH_BATCHES] = batches
        self._stop(runner, meta)

    def before_val(self, runner) -> None:
        # a validation inside training, of which the iterations before it
        # are done (epoch-based: the epoch, resumed with the next one): a
        # signal noticed here (e.g. sent while the epoch's checkpoint was
        # written) is not kept waiting through it; the resumed run runs
        # this validation first
        if self._training and self._asked_to_stop(True):
            self._stop(runner, {'epoch': runner.epoch, 'iter': runner.iter,
                                VAL_PENDING: True})

    def after_val_epoch(self, runner, metrics=None) -> None:
        # a validation inside epoch-based training: the epoch before it is
        # done (a checkpoint there resumes with the next epoch)
        if isinstance(runner.train_loop, EpochBasedTrainLoop) and \
                self._asked_to_stop(True):
            self._stop(runner, dict(epoch=runner.epoch, iter=runner.iter))

    def after_train(self, runner) -> None:
        self._training = False
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _asked_to_stop(self, agree_now: bool) -> bool:
        """Whether this process, or under DDP any rank, was signalled.
        Under DDP the ranks are asked only where ``agree_now`` (every rank
        reaches the same answer there); elsewhere the answer is no."""
        if get_world_size() == 1:
            return self._signal is not None
        if not agree_now:
            return False
        # filled on the device: a tensor copied from the host would wait for
        # the device too
        asked = torch.full((1, ), int(self._signal is not None),
                           device=get_device())
        all_reduce(asked, op='max')
        return bool(asked.item())  # the host sync

    def _stop(self, runner, meta: dict) -> None:
        name = f'preempted_iter_{meta["iter"]}.pth'
        path = osp.join(runner.work_dir, name)
        before_save_on_every_rank(runner)  # every rank stops here
        if is_main_process():
            with atomic_path(path) as tmp:
                runner.save_checkpoint(runner.work_dir, osp.basename(tmp),
                                       meta=meta, by_epoch=False)
            atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'),
                              path)
            for older in glob.glob(osp.join(glob.escape(runner.work_dir),
                                            'preempted_iter_*.pth')):
                if older != path:
                    os.remove(older)
        barrier()  # every rank ends once the checkpoint is on disk
        if os.environ.get(PREEMPTED_FILE_ENV):
            with open(os.environ[PREEMPTED_FILE_ENV], 'w') as f:
                f.write(f'{path}\n')
        signame = signal.Signals(self._signal).name if self._signal \
            else 'another rank'
        runner.logger.warning(
            f'stopped by {signame} after iteration {meta["iter"]}: saved '
            f'{path}; continue with --resume (exit status '
            f'{PREEMPTED_EXIT_CODE}: preempted)')
        raise Preempted()
