"""The run launcher: runs trained one after another in one process (the
demos) keep their logs and scalars apart, even when MMEngine would give them
one name; a run in a child tools/train.py trains the overrides it was given,
reports a failure with its output's tail, and resumes."""
import json

import pytest

from cls_utils import small_project
from dhkd_det.analysis import read_run
from dhkd_det.apis import RunFailed, train_in_process, train_in_subprocess


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


def test_subprocess_run_trains_its_overrides_and_resumes(tmp_path):
    cfg = small_project(tmp_path, n_train=16, n_test=8)
    work_dir = str(tmp_path / 'run')
    options = {'train_cfg.max_epochs': 1, 'optim_wrapper.optimizer.lr': 0.02,
               'param_scheduler.milestones': [5]}
    run = train_in_subprocess(cfg, options, work_dir).check()
    assert run.returncode == 0
    # the child trained the merged config written into the work dir
    assert run.config == str(tmp_path / 'run' / 'cfg.py')
    lrs = {r['lr'] for r in read_run(work_dir).train if 'lr' in r}
    assert lrs == {0.02}
    assert [r['step'] for r in read_run(work_dir).val] == [1]

    # resumed with a longer schedule: epoch 2 only, its output appended
    first_log = open(run.log).read()
    again = train_in_subprocess(cfg, {**options, 'train_cfg.max_epochs': 2},
                                work_dir, resume=True).check()
    assert open(again.log).read().startswith(first_log)
    assert 'resumed epoch: 1' in again.tail(100000)[len(first_log):]
    assert [r['step'] for r in read_run(work_dir).val] == [1, 2]
    assert len(list((tmp_path / 'run').glob('*/vis_data/scalars.json'))) == 2


def test_subprocess_run_failure_names_its_output(tmp_path):
    cfg = small_project(tmp_path, n_train=16, n_test=8)
    missing = str(tmp_path / 'no_data')
    run = train_in_subprocess(
        cfg, {'train_dataloader.dataset.data_root': missing},
        str(tmp_path / 'bad'))
    assert run.returncode != 0
    assert missing in run.tail()  # the child's own error names the folder
    with pytest.raises(RunFailed, match='full output: .*train_stdout.log'):
        run.check()
