"""``DHKDRunner``: MMEngine's ``Runner`` carrying this project's run-time
guarantees in the config itself (``runner_type = 'DHKDRunner'``, set in
``configs/_base_/default_runtime.py`` and ``distill_coco.py``).

``tools/train.py`` checks a run before building it, holds the work dir's
lock, adds the hooks that make a run safe to stop and to continue, and
resumes from the newest complete checkpoint.  MMDetection's and MMEngine's
own train / test scripts build the runner a config names
(``RUNNERS.build(cfg)`` when it has ``runner_type``), and the config's
``custom_imports = ['dhkd_det']`` registers this class, so a config of ours
(or one inheriting it) gets the same there:

- ``--launcher slurm`` / ``pytorch`` without srun's / torchrun's
  environment is a named error, not ``KeyError: 'SLURM_PROCID'``;
- the always-on hooks (``ScheduleResumeHook``, ``PreemptionHook``,
  ``RngStateHook``: stop on SIGTERM / SIGUSR1 with a checkpoint and exit
  status 75, exact resume, mid-epoch too);
- ``train()``: the pre-flight of the training and validation data, the
  pretrained weights and the teacher (``checks.preflight``) before any
  data set is built, the work dir's lock, ``resume=True`` without a path
  resuming the newest complete checkpoint (checked first), and the label
  range;
- ``val()`` / ``test()``: the pre-flight of their data;
- a config that inherits ours by ``dhkd_det::`` gets its data loaders'
  ``collate_fn`` scope mark taken off (``inherited_scope.py``), as
  ``load_config`` does for our tools.

A tool that did these itself sets ``runner.prepared = True`` after building
it; the runner then does not repeat them (nor take the lock it holds)."""
import copy

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..checkpoint import check_resume
from ..checks import check_label_range, check_preflight
from .always_on_hooks import add_always_on_hooks
from .config import check_launcher
from .inherited_scope import drop_collate_scopes
from .newest_checkpoint import checkpoint_dir, newest_complete_checkpoint
from .train_length import check_train_length
from .work_dir_lock import held_here, work_dir_lock


def train_loaders(cfg) -> tuple:
    """The loaders a training run reads: training, and validation when it
    validates."""
    return ('train_dataloader', ) + (
        ('val_dataloader', ) if cfg.get('val_cfg') else ())


@RUNNERS.register_module()
class DHKDRunner(Runner):
    """See the module's doc."""

    #: set by a tool that checked, locked and resumed the run itself
    prepared = False

    @classmethod
    def from_cfg(cls, cfg) -> 'DHKDRunner':
        cfg = copy.deepcopy(cfg)
        check_launcher(cfg.get('launcher', 'none'))
        drop_collate_scopes(cfg)
        add_always_on_hooks(cfg)
        return super().from_cfg(cfg)

    def _preflight(self, loaders) -> None:
        if not self.prepared:
            check_preflight(self.cfg, loaders, subject=self.cfg.filename or
                            'the config')

    def train(self):
        if self.prepared:
            return super().train()
        loaders = train_loaders(self.cfg)
        check_train_length(self.cfg)
        self._preflight(loaders)
        if held_here(self.work_dir):
            return self._checked_train(loaders)
        with work_dir_lock(self.work_dir):
            return self._checked_train(loaders)

    def _checked_train(self, loaders):
        if self._resume and self._load_from is None:
            found = newest_complete_checkpoint(self.work_dir,
                                               checkpoint_dir(self.cfg))
            if found is not None:
                check_resume(self, found, ' (the newest complete one in '
                             f'{self.work_dir})')
                # MMEngine's load_or_resume resumes a given path as it is
                self._load_from = found
        check_label_range(self, loaders)
        return super().train()

    def val(self):
        self._preflight(('val_dataloader', ))
        return super().val()

    def test(self):
        self._preflight(('test_dataloader', ))
        return super().test()
