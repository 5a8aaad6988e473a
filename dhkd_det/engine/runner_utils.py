"""What tools/train.py and tools/test.py share: loading a config with
checked ``--cfg-options`` and building MMEngine's runner."""
import difflib
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


def check_cfg_options(cfg: Config, options: dict) -> None:
    """Reject an override whose key is not in the config but is one typo away
    from a key that is (``model.teacher_ckp`` for ``model.teacher_ckpt``);
    genuinely new keys (arguments left at their defaults) pass."""
    for full_key in options:
        parent, _, leaf = full_key.rpartition('.')
        node = cfg
        for part in parent.split('.') if parent else []:
            if isinstance(node, (dict, ConfigDict)) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and \
                    int(part) < len(node):
                node = node[int(part)]
            else:
                close = difflib.get_close_matches(
                    part, list(node) if isinstance(node, dict) else [], 1,
                    0.8)
                if close:
                    raise KeyError(
                        f'--cfg-options {full_key}: the config has no '
                        f'{part!r}; did you mean {close[0]!r}?')
                break
        else:
            if isinstance(node, dict) and leaf not in node:
                close = difflib.get_close_matches(leaf, list(node), 1, 0.8)
                if close:
                    where = parent or 'the top level'
                    raise KeyError(
                        f'--cfg-options {full_key}: {where} has no key '
                        f'{leaf!r}; did you mean {close[0]!r}?')


def load_config(path: str, cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                launcher: str = 'none') -> Config:
    if not osp.isfile(path):
        raise FileNotFoundError(f'config {path!r} not found')
    cfg = Config.fromfile(path)
    if cfg_options:
        check_cfg_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    cfg.launcher = launcher
    if launcher != 'none' and not torch.cuda.is_available():
        # NCCL needs GPUs; CPU processes talk over gloo.
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        cfg.env_cfg.dist_cfg.backend = 'gloo'
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    return cfg


def apply_amp(cfg: Config) -> None:
    """``--amp``: switch the optimizer wrapper to mixed precision."""
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper == 'AmpOptimWrapper':
        return
    if wrapper != 'OptimWrapper':
        raise ValueError(
            f'--amp works with optim_wrapper.type=OptimWrapper, the config '
            f'has {wrapper!r} (gradient alignment runs in float32; drop '
            '--amp or use the OptimWrapper)')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')


def build_runner(cfg: Config) -> Runner:
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
