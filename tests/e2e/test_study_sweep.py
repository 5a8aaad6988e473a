"""The digit-pairs study sweep, shrunk: its file names every method the
study needs and a pair config that logs the diagnostics; two of its cells
(one head with both losses, DHKD) train through tools/train.py on a tiny
digit-pairs set with a random teacher, and the study report gives each its
top-1, NC1 and the main-head / backbone gradient cosines."""
import json
import os

from cls_utils import REPO, save_teacher
from dhkd_det.datasets import digit_pairs_as_cifar
from dhkd_det.experiments.study_report import study_report
from dhkd_det.experiments.sweep import Sweep, load_sweep, run_local

STUDY = f'{REPO}/configs/sweeps/digit_pairs_study.py'


def test_study_sweep_file():
    sweep = load_sweep(STUDY)
    assert sweep.methods == ['ce', 'one_head_both', 'dhkd', 'dhkd_ga', 'kd',
                             'dhkd_kd', 'dkd', 'kd_ls', 'dist']
    assert sweep.seeds == [0, 1, 2]
    (pair, config), = sweep.pairs.items()
    assert os.path.isfile(config)


def test_two_cells_and_their_diagnostics(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the sweep's paths are relative
    # two test images a class: NC1 needs a spread inside each class
    digit_pairs_as_cifar('data/digit_pairs', train_per_class=1,
                         test_per_class=2)
    os.makedirs('checkpoints')
    save_teacher('checkpoints/digit_pairs_resnet20.pth', arch='resnet20',
                 num_classes=100)
    full = load_sweep(STUDY, {
        'train_cfg.max_epochs': 1,
        'param_scheduler.milestones': [1],
        # 25 iterations: the gradient diagnostics measure at iteration 20
        'train_dataloader.batch_size': 4,
        'log_level': 'WARNING',
    })
    sweep = Sweep(full.file, full.pairs, ['one_head_both', 'dhkd'], [0],
                  full.cfg_options)
    out = str(tmp_path / 'out')
    outcomes = run_local(sweep, out, sweep.cells(), [None], say=print)
    assert [o.status for o in outcomes] == ['done', 'done'], \
        [o.tail for o in outcomes]
    report = study_report(sweep, out)
    rows = {r['method']: r for r in report['rows']}
    one_head = rows['CE+BinaryKLNorm, one head']
    dual = rows['DHKD']
    for row in (one_head, dual):
        assert row['seeds'] == '1'
        assert float(row['top-1 last']) >= 0
        assert float(row['nc1']) > 0
    # one head: both losses reach the main classifier; two heads: only CE,
    # so there is no pair of gradients there to compare
    assert one_head['cos_main_head'] not in ('0.00', '-')
    assert dual['cos_main_head'] == dual['conflict_main_head'] == '-'
    assert 'cos_backbone' in dual
    with open(tmp_path / 'out' / 'diagnostics.json') as f:
        assert json.load(f) == report['rows']
    assert all(os.path.getsize(p) > 0 for p in report['files'])
