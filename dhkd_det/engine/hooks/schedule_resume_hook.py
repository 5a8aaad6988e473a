"""ScheduleResumeHook: a resumed run follows the schedule its config asks
for, e.g. a run extended from 100 to 240 epochs still decays at 150/180/210.

MMEngine gives a scheduler without ``end`` the run's ``max_epochs`` (or
``max_iters``) when it builds it, and ``resume`` then overwrites the whole
scheduler with the saved one: the old ``end``, milestones and factors.  This
hook, before the saved state is loaded, keeps only the saved progress and
takes the schedule from the config, where the two schedules agree on every
step already taken; where they do not, the run cannot be continued as the
config asks and resume stops naming the keys.
"""
import copy
import warnings
from types import SimpleNamespace
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

# the keys of a scheduler's state that record how far it has come, not what
# the schedule is (base_values: the optimizer's initial values, restored
# with it)
_PROGRESS = ('last_step', '_global_step', '_last_value', 'base_values',
             'verbose')


def _equal(a, b) -> bool:
    try:
        return bool(a == b)
    except Exception:  # e.g. tensors: compared by their values
        return repr(a) == repr(b)


def _simulate(cls, state: dict, steps: int):
    """The values a scheduler of class ``cls`` with schedule ``state`` sets
    at its first ``steps`` steps (on a stand-in optimizer at its base
    values), and its state after them."""
    name = state['param_name']
    groups = [{name: v, f'initial_{name}': v} for v in state['base_values']]

    def step():  # marked as counted, as the real optimizer's step is
        pass
    step._with_counter = True
    scheduler = cls.__new__(cls)
    scheduler.__dict__.update(copy.deepcopy(state))
    scheduler.optimizer = SimpleNamespace(param_groups=groups, step=step,
                                          _global_step=0)
    scheduler.last_step, scheduler._global_step = -1, -1
    values = []
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for _ in range(steps):
            scheduler.step()
            values.append([g[name] for g in groups])
    return values, scheduler.state_dict()


def _changes(keys: List[str], old: dict, new: dict) -> str:
    return ', '.join(f'{k} {old.get(k)!r} -> {new.get(k)!r}' for k in keys)


def _param_groups(optim_state: dict, name: Optional[str]) -> List[dict]:
    if name is not None:
        optim_state = optim_state[name]
    return optim_state['param_groups']


@HOOKS.register_module()
class ScheduleResumeHook(Hook):
    """Added to every run by ``tools/train.py``; acts on ``--resume`` only
    (a checkpoint loaded with ``load_from`` keeps no scheduler state)."""
    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        saved = checkpoint.get('param_schedulers')
        built = runner.param_schedulers
        if not runner.cfg.get('resume') or saved is None or \
                built is None or 'optimizer' not in checkpoint:
            return
        if isinstance(built, dict):
            for name, schedulers in built.items():
                self._adopt(schedulers, saved[name], checkpoint['optimizer'],
                            name)
        else:
            self._adopt(built, saved, checkpoint['optimizer'], None)

    def _adopt(self, schedulers, saved: list, optim_state: dict,
               name: Optional[str]) -> None:
        """Rewrite ``saved`` (and the optimizer's current values in
        ``optim_state``) into the state ``schedulers`` would have reached
        now, or raise when their past differs."""
        if len(saved) != len(schedulers):
            raise ValueError(
                f'--resume: the checkpoint holds {len(saved)} parameter '
                f'schedulers, param_scheduler of the config {len(schedulers)}'
                ': resume with the schedulers that wrote it, or start a new '
                'run from its weights with load_from=CHECKPOINT.')
        for index, (scheduler, old) in enumerate(zip(schedulers, saved)):
            new = scheduler.state_dict()
            changed = sorted(
                k for k in set(new) | set(old) if k not in _PROGRESS and
                not _equal(new.get(k), old.get(k)))
            if not changed:
                continue
            what = (f'param_scheduler[{index}]'
                    + (f' of {name}' if name else '')
                    + f' ({type(scheduler).__name__})')
            taken = old['_global_step'] + 1  # steps already applied
            schedule = dict(old, **{k: new[k] for k in changed if k in new})
            try:
                was, _ = _simulate(type(scheduler), old, taken)
                now, state = _simulate(type(scheduler), schedule, taken)
            except Exception as err:
                raise ValueError(self._refusal(
                    what, changed, old, new,
                    f'its past cannot be replayed to check ({err!r})'))
            if not _equal(was[:-1], now[:-1]):
                step = next(i for i, (a, b) in enumerate(zip(was, now))
                            if not _equal(a, b))
                raise ValueError(self._refusal(
                    what, changed, old, new,
                    f'the config\'s schedule sets {now[step]} at step '
                    f'{step}, where the run that is resumed had {was[step]}'))
            # the step taken last set the values the next iterations use:
            # applied as the config's schedule would have (a factor, so
            # that schedulers chained on one value keep their share)
            groups = _param_groups(optim_state, name)
            key = old['param_name']
            for group, before, after in zip(groups, was[-1], now[-1]):
                if after != before:
                    group[key] = group[key] * after / before if before \
                        else after
            state['base_values'] = old['base_values']
            state['_last_value'] = [g[key] for g in groups]
            print_log(f'--resume: {what} follows the config: '
                      f'{_changes(changed, old, new)}', 'current')
            old.clear()
            old.update(state)

    @staticmethod
    def _refusal(what: str, changed: List[str], old: dict, new: dict,
                 why: str) -> str:
        return (f'--resume: {what} of the config differs from the one of '
                f'the checkpoint ({_changes(changed, old, new)}) and cannot '
                f'continue it: {why}. '
                'Resume with the schedule that wrote the checkpoint (set '
                'these keys back with --cfg-options param_scheduler...), or '
                'start a new run from its weights with load_from=CHECKPOINT.')
