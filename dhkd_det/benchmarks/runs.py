"""Short training runs of our configs for measurements: the config as the
tools load it, and the data loader workers stopped when a run is done."""
from mmengine.config import Config

from ..apis import load_config


def stop_loader_workers(runner) -> None:
    """Stop the worker processes of the runner's train / test data loaders
    now.  Left to the garbage collector (runners sit in reference cycles),
    a loader's queues can be finalised before it, its workers never hear
    the stop and each is only reaped after a 5 s join timeout."""
    for loop in (runner._train_loop, runner._test_loop):
        infinite = getattr(loop, 'dataloader_iterator', None)  # iter loop
        loader = getattr(loop, 'dataloader', None)
        for iterator in (getattr(infinite, '_iterator', None),
                         getattr(loader, '_iterator', None)):
            if hasattr(iterator, '_shutdown_workers'):
                iterator._shutdown_workers()


def benchmark_config(config: str, options: dict, work_dir: str) -> Config:
    """One of our configs loaded as tools/train.py loads it (checked
    overrides; ``train_cfg.max_iters`` turns the epoch loop into an
    iteration loop), without the curve plots at the end of the run: these
    runs are a few iterations each, and nobody reads their plots.  Build
    the runner with ``dhkd_det.apis.build_runner``."""
    cfg = load_config(config, options, work_dir=work_dir)
    # (MMEngine takes None only for its own default hooks)
    cfg.default_hooks.pop('curves', None)
    return cfg
