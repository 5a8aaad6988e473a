"""The hooks every training run of tools/train.py gets, whatever its
config: they make a run safe to stop and to continue."""
from mmengine.config import Config

#: what each does: see its class in dhkd_det.engine.hooks
ALWAYS_ON_HOOKS = ('ScheduleResumeHook', 'PreemptionHook', 'RngStateHook')


def add_always_on_hooks(cfg: Config) -> None:
    """Append the always-on hooks to ``cfg.custom_hooks`` (those a config
    lists already keep its arguments)."""
    hooks = list(cfg.get('custom_hooks') or [])
    listed = {h.get('type') for h in hooks if isinstance(h, dict)}
    hooks += [dict(type=name) for name in ALWAYS_ON_HOOKS
              if name not in listed]
    cfg.custom_hooks = hooks
