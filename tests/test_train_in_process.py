"""Runs trained one after another in one process (the demos) keep their
logs and scalars apart, even when MMEngine would give them one name."""
import json

from cls_utils import small_project
from dhkd_det.apis import train_in_process


def test_each_run_writes_into_its_own_work_dir(tmp_path):
    cfg = small_project(tmp_path, n_train=16, n_test=8)
    options = {'train_cfg.max_epochs': 1, 'log_level': 'WARNING',
               # the same visualizer name in both, as MMDetection's configs
               'visualizer.name': 'visualizer'}
    seen = {}
    for lr, name in ((0.0, 'first run'), (0.5, 'second run')):
        work_dir = tmp_path / name.replace(' ', '_')
        train_in_process(cfg, {**options, 'optim_wrapper.optimizer.lr': lr},
                         str(work_dir), name)
        scalars = list(work_dir.glob('*/vis_data/scalars.json'))
        assert len(scalars) == 1, name  # its own, not the first run's
        records = [json.loads(line) for line in scalars[0].read_text()
                   .splitlines() if line.strip()]
        seen[name] = {r['lr'] for r in records if 'lr' in r}
    assert seen == {'first run': {0.0}, 'second run': {0.5}}
