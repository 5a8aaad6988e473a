"""MMEngine's CheckpointHook with nothing lost when a save is interrupted.

MMEngine 0.10 writes a checkpoint in place (no temporary file, no fsync) and
deletes the oldest one (``max_keep_ckpts``) and the previous best *before*
writing the new one, so a run killed mid-save can be left with a truncated
file and a ``last_checkpoint`` naming a deleted one.  Here every file is
written to a temporary name in the same folder, flushed and renamed
(``atomic_path``), ``last_checkpoint`` too, and old checkpoints are deleted
only once the new one is on disk.  Weights that are not finite are never
written.

A new best checkpoint is written, then the last checkpoint that records it,
and only then is the previous best deleted.  A kill between these steps
leaves two best files; the newest of them is the best (each is written only
when it beats the one before), so a resumed run records that one and deletes
the other.  A kill (or a full disk) while the run's first best is recorded
leaves a best file beside a checkpoint that records none: the resumed run
records that file, with the score it holds.
"""
import glob
import os
import os.path as osp
import re

import torch
from mmengine.dist import is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

from ...checkpoint.atomic_file import (PARTIAL_SUFFIX, atomic_path,
                                       atomic_write_text)
from ...checkpoint.read import read_checkpoint
from ..save_event import before_save_on_every_rank


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """Drop-in for ``CheckpointHook`` (same arguments) for a local
    ``out_dir``: ``default_hooks.checkpoint.type='AtomicCheckpointHook'``."""

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if not isinstance(self.file_backend, LocalBackend):
            raise ValueError(
                f'AtomicCheckpointHook writes to a local folder, but the '
                f'checkpoints go to {self.out_dir} through '
                f'{type(self.file_backend).__name__}: set '
                "default_hooks.checkpoint.type='CheckpointHook' for remote "
                'storage')
        if is_main_process():
            # left by a run killed while it was writing
            for stale in glob.glob(osp.join(glob.escape(self.out_dir),
                                            f'.*{PARTIAL_SUFFIX}')):
                os.remove(stale)
                runner.logger.info(f'removed the unfinished file {stale}')
            self._reconcile_best(runner)

    def _reconcile_best(self, runner) -> None:
        """Make each best-checkpoint record of a resumed run name the newest
        best file of its metric, and delete the older ones.

        The record may be missing altogether: a run stopped while it
        recorded its first best leaves a best file beside a checkpoint that
        names none, and the resumed run would otherwise start the record
        afresh and keep a second best file beside the first.  Only files of
        the steps the resumed checkpoint had reached count (a later one is
        of a run resumed here from an earlier checkpoint)."""
        if not self.save_best or runner.iter == 0:  # nothing trained yet
            return
        hub = runner.message_hub
        single = len(self.key_indicators) == 1
        reached = runner.epoch if self.by_epoch else runner.iter
        step = re.escape(self.filename_tmpl).replace(r'\{\}', r'(\d+)')
        best_files = {}  # the metric's part of the name -> [(step, path)]
        for name in os.listdir(self.out_dir):
            match = re.fullmatch(f'best_(.+)_{step}', name)
            if match and int(match.group(2)) <= reached:
                best_files.setdefault(match.group(1), []).append(
                    (int(match.group(2)), osp.join(self.out_dir, name)))
        for key_indicator in self.key_indicators:
            ckpt_key = 'best_ckpt' if single else f'best_ckpt_{key_indicator}'
            score_key = 'best_score' + ckpt_key[len('best_ckpt'):]
            recorded = hub.get_info(ckpt_key)
            if key_indicator != 'auto':
                metric = key_indicator.replace('/', '_')
            elif recorded:  # 'auto': the metric is known from its file
                metric = re.fullmatch(f'best_(.+)_{step}',
                                      osp.basename(recorded))
                metric = metric and metric.group(1)
            else:
                metric = next(iter(best_files)) if len(best_files) == 1 \
                    else None
            files = sorted(best_files.get(metric, []))
            if not files:
                continue
            newest = files[-1][1]
            if newest != recorded:
                own = read_checkpoint(newest, 'best checkpoint', mmap=True)
                score = own['message_hub']['runtime_info'].get(score_key)
                if score is None:
                    raise ValueError(
                        f'{newest} records no {score_key}: it was not '
                        f'written as the best checkpoint of {key_indicator} '
                        'of this run. Move it out of '
                        f'{self.out_dir}, then --resume again.')
                hub.update_info(ckpt_key, newest)
                hub.update_info(score_key, score)
                if single:
                    self.best_ckpt_path = newest
                else:
                    self.best_ckpt_path_dict[key_indicator] = newest
                why = 'was stopped before it recorded it' if recorded else \
                    'was stopped while it recorded its first best'
                runner.logger.info(
                    f'{newest} is the newest best checkpoint (the run that '
                    f'wrote it {why}): it is the best from now on, with '
                    f'{key_indicator} {score}')
            for _, older in files[:-1]:
                self._remove(runner, older)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Refuse to write weights that are not finite: the checkpoints on
        disk then stay the last good ones."""
        bad = [k for k, v in checkpoint.get('state_dict', {}).items()
               if torch.is_tensor(v) and v.is_floating_point()
               and not bool(torch.isfinite(v).all())]
        if bad:
            raise FloatingPointError(
                f'not saving the checkpoint of epoch {runner.epoch + 1}, '
                f'iteration {runner.iter + 1}: {len(bad)} weights are not '
                f'finite (e.g. {bad[:3]}). The checkpoints in '
                f'{self.out_dir} are the last good ones. Lower the learning '
                'rate, add optim_wrapper.clip_grad, or check the data, and '
                'resume with --resume.')

    def _write(self, runner, filename: str, **kwargs) -> None:
        # reached by every rank at once: hooks gather what ranks hold
        before_save_on_every_rank(runner)
        # runner.save_checkpoint writes on the main process only
        if not is_main_process():
            return
        path = osp.join(self.out_dir, filename)
        with atomic_path(path) as tmp:
            runner.save_checkpoint(self.out_dir, osp.basename(tmp),
                                   self.file_client_args,
                                   backend_args=self.backend_args, **kwargs)

    def _remove(self, runner, path: str) -> None:
        if not is_main_process():
            return
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            self.file_backend.rmtree(path)
        else:
            return
        runner.logger.info(f'removed the outdated checkpoint {path}')

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        outdated = None
        # the best-checkpoint path may save the same step a second time
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._write(runner, ckpt_filename,
                    save_optimizer=self.save_optimizer,
                    save_param_scheduler=self.save_param_scheduler,
                    meta=meta, by_epoch=self.by_epoch, **self.args)
        if is_main_process():
            atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'),
                              self.last_ckpt)
        if outdated is not None:
            self._remove(runner, self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(outdated)))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """CheckpointHook's, with the previous best deleted after the new
        one is written instead of before."""
        if not self.save_best:
            return
        if self.by_epoch:
            ckpt_filename = self.filename_tmpl.format(runner.epoch)
            cur_type, cur_time = 'epoch', runner.epoch
        else:
            ckpt_filename = self.filename_tmpl.format(runner.iter)
            cur_type, cur_time = 'iter', runner.iter
        meta = dict(epoch=runner.epoch, iter=runner.iter)
        if 'auto' in self.key_indicators:
            self._init_rule(self.rules, [list(metrics.keys())[0]])
        hub = runner.message_hub
        single = len(self.key_indicators) == 1
        updated = False
        outdated = []
        for key_indicator, rule in zip(self.key_indicators, self.rules):
            score_key = 'best_score' if single else \
                f'best_score_{key_indicator}'
            ckpt_key = 'best_ckpt' if single else f'best_ckpt_{key_indicator}'
            previous = self.best_ckpt_path if single else \
                self.best_ckpt_path_dict[key_indicator]
            best_score = hub.get_info(score_key, self.init_value_map[rule])
            score = metrics[key_indicator]
            if score is None or not self.is_better_than[key_indicator](
                    score, best_score):
                continue
            updated = True
            hub.update_info(score_key, score)
            name = f'best_{key_indicator}_{ckpt_filename}'.replace('/', '_')
            path = self.file_backend.join_path(self.out_dir, name)
            if single:
                self.best_ckpt_path = path
            else:
                self.best_ckpt_path_dict[key_indicator] = path
            hub.update_info(ckpt_key, path)
            self._write(runner, name, save_optimizer=False,
                        save_param_scheduler=False, meta=meta, by_epoch=False)
            runner.logger.info(
                f'The best checkpoint with {score:0.4f} {key_indicator} at '
                f'{cur_time} {cur_type} is saved to {name}.')
            if previous and previous != path:
                outdated.append(previous)
        # saved again so that the last checkpoint's message hub names the
        # new best (as CheckpointHook does), before the old best is deleted
        if updated and self.last_ckpt is not None:
            self._save_checkpoint_with_step(runner, cur_time, meta)
        for path in outdated:
            self._remove(runner, path)
