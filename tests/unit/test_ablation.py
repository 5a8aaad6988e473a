"""tools/analysis/ablate_heads.py: each variant's model is what its name
says, rows aggregate seeds, and the tool runs end to end on small data,
each run a child tools/train.py whose failure it reports."""
import json

import pytest
from mmengine.config import Config
from mmengine.registry import MODELS

import dhkd_det  # noqa: F401
from cls_utils import REPO, python_tool, run_tool, small_project
from dhkd_det.experiments.ablation import RENAMED, VARIANTS, \
    ablation_rows, variant_config
from dhkd_det.analysis.runs import Run, read_run

CONFIG = f'{REPO}/configs/dhkd/cifar100_res32x4_res8x4.py'


@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_variant_models(variant, tmp_path):
    path = tmp_path / f'{variant}.py'
    path.write_text(variant_config(CONFIG, Config.fromfile(CONFIG), variant,
                                   seed=3))
    cfg = Config.fromfile(str(path))
    model = MODELS.build(cfg.model)
    task, logit, dual, ga = VARIANTS[variant]
    assert list(model.task_losses) == ([task] if task else [])
    assert list(model.distill_losses) == ([logit] if logit else [])
    if logit:
        assert type(model.distill_losses[logit]).__name__ == \
            'BinaryKLNormLoss'
    assert (model.student.aux_head is not None) == dual
    assert cfg.optim_wrapper.type == ('GradAlignOptimWrapper' if ga
                                      else 'OptimWrapper')
    assert cfg.randomness.seed == 3
    hooks = [h['type'] for h in cfg.custom_hooks]
    assert 'NeuralCollapseHook' in hooks
    assert ('DHKDHook' in hooks) == bool(logit)
    # gradient cosines only where two losses meet
    assert ('GradDiagnosticsHook' in hooks) == bool(task and logit)

    assert cfg.default_hooks.logger.interval == 20


def test_variants_share_the_sweeps_names():
    """One name per thing: one head with both losses is ``one_head_both``
    here as in the sweep; the earlier name still builds the same run."""
    from dhkd_det.experiments.methods import METHODS
    assert 'one_head_both' in VARIANTS and 'one_head_both' in METHODS
    cfg = Config.fromfile(CONFIG)
    for old, new in RENAMED.items():
        assert old not in VARIANTS
        assert variant_config(CONFIG, cfg, old, 0) == \
            variant_config(CONFIG, cfg, new, 0)



def test_rows_average_over_seeds():
    def run(top1s, nc1):
        return Run(work_dir='w', val=[dict(step=i + 1, top1=t, nc1=nc1)
                                      for i, t in enumerate(top1s)],
                   train=[{'iter': 1, 'grad/cos_backbone': 0.25,
                           'grad/conflict_backbone': 0.5,
                           'grad/cos_aux_head': 0.0}])
    rows = ablation_rows(dict(dhkd=[run([50, 70, 60], 0.5),
                                    run([40, 80, 64], 0.7)]))
    row = rows[0]
    assert row['seeds'] == '2'
    assert row['top-1 last'] == '62.00 ± 2.83'  # 60 and 64
    assert row['top-1 best'] == '75.00 ± 7.07'  # 70 and 80
    assert row['nc1'] == '0.60 ± 0.14'
    assert row['cos_backbone'] == '0.25 ± 0.00'
    assert row['conflict_backbone'] == '0.50 ± 0.00'
    assert 'cos_aux_head' not in row  # 0 by construction, not shown


@pytest.mark.slow
def test_ablate_heads_end_to_end(tmp_path):
    cfg = small_project(tmp_path, n_train=64, n_test=32)
    out = tmp_path / 'ablate'
    proc = run_tool(python_tool(
        'analysis/ablate_heads.py', cfg, '--variants', 'ce_only',
        'one_head_both', 'dhkd', '--ga', '--out', str(out),
        '--cfg-options', f'model.teacher_ckpt={tmp_path / "teacher.pth"}',
        'train_cfg.max_epochs=1'), cwd=str(tmp_path), timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert '[4/4] dhkd_ga, seed 0' in proc.stdout
    rows = json.loads((out / 'ablation.json').read_text())
    assert [r['variant'] for r in rows] == ['ce_only', 'one_head_both',
                                            'dhkd', 'dhkd_ga']
    for row in rows:  # the last validation of each variant's own run
        run = read_run(str(out / row['variant'] / 'seed_0'))
        assert row['top-1 last'] == f"{run.series('val', 'top1')[1][-1]:.2f}"
        assert row['nc1'] == f"{run.series('val', 'nc1')[1][-1]:.2f}"
    table = (out / 'ablation.md').read_text()
    assert table.startswith('| variant | seeds | top-1 last |')
    assert (out / 'plots' / 'accuracy.png').is_file()
    assert (out / 'plots' / 'ablation.png').is_file()  # the overview
    assert f"overview: {out / 'plots' / 'ablation.png'}" in proc.stdout
    assert (out / 'dhkd_ga' / 'seed_0' / 'dhkd_ga.py').is_file()


def test_overview_leaves_out_unlogged_panels(tmp_path):
    from dhkd_det.analysis import plot_panels
    runs = [Run(work_dir=f'w/{name}', val=[dict(step=1, top1=50.0)],
                train=[{'iter': 1, 'grad/cos_backbone': c}])
            for name, c in (('a', 0.1), ('b', -0.2))]
    path = plot_panels(runs, [('val', 'top1'), ('val', 'nc1'),
                              ('train', 'grad/cos_backbone')],
                       str(tmp_path / 'sub' / 'o.png'))
    from matplotlib.image import imread
    height, width = imread(path).shape[:2]
    # two 4.2 x 3.4 inch panels side by side: nc1 (unlogged) left out
    assert width / height == pytest.approx(2 * 4.2 / 3.4, abs=0.05)
    with pytest.raises(ValueError, match='none of the runs logged'):
        plot_panels(runs, [('val', 'nc1')], str(tmp_path / 'x.png'))


@pytest.mark.slow
def test_ablate_heads_names_a_failed_run(tmp_path):
    cfg = small_project(tmp_path, n_train=16, n_test=8)
    out = tmp_path / 'ablate'
    missing = tmp_path / 'no_data'
    proc = run_tool(python_tool(
        'analysis/ablate_heads.py', cfg, '--variants', 'ce_only', '--out',
        str(out), '--cfg-options',
        f'train_dataloader.dataset.data_root={missing}'), cwd=str(tmp_path))
    assert proc.returncode == 1
    # the child's own error, then which run failed and where its output is
    assert str(missing) in proc.stderr
    log = out / 'ce_only' / 'seed_0' / 'train_stdout.log'
    assert 'ablate_heads: ' in proc.stderr
    assert f'full output: {log}' in proc.stderr
