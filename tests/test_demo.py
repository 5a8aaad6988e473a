"""The offline classification demo runs end to end in its smoke mode (CI runs
the full default through the README's first command): progress lines
without MMEngine's noise, the teacher the students learnt from is the one it
trained, and the table it prints is what it saved."""
import json

from cls_utils import python_tool, run_tool


def test_demo_smoke(tmp_path):
    proc = run_tool(python_tool('demo.py', '--smoke', '--work-dir',
                                str(tmp_path)),
                    cwd=str(tmp_path), env_extra={'OMP_NUM_THREADS': '2'})
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = proc.stdout
    results = json.loads((tmp_path / 'results.json').read_text())

    # a progress line per run (1 epoch each in the smoke mode), no noise
    assert '[teacher resnet32] epoch 1/1  loss ' in out
    for variant in ('ce_only', 'logit_only', 'both_one_head', 'dhkd'):
        assert f'[{variant}] epoch 1/1  loss ' in out
    for noise in ('FileClient', 'Loads checkpoint', ' - mmengine - ',
                  'Warning'):
        assert noise not in out + proc.stderr

    # the students distilled from the teacher trained in step 1
    teacher_ckpt = tmp_path / 'teacher_resnet32' / 'epoch_1.pth'
    assert teacher_ckpt.is_file()
    dhkd_cfg = (tmp_path / 'ablation' / 'dhkd' / 'seed_0' / 'dhkd.py')
    assert dhkd_cfg.is_file()
    alone = results['ablation'][0]  # ce_only: the student alone
    assert (f'top-1 {results["teacher"]["top1"]:.2f}% (the student alone: '
            f'{alone["top-1 last"]}%)') in out

    # the table printed holds the saved rows, and the figure was drawn
    rows = results['ablation']
    assert [r['variant'] for r in rows] == ['ce_only', 'logit_only',
                                            'both_one_head', 'dhkd']
    for row in rows:
        assert f'| {row["variant"]} | 1 | {row["top-1 last"]} |' in out
    assert results['figure'].endswith('ablation.png')
    assert (tmp_path / 'ablation' / 'plots' / 'ablation.png').stat().st_size
    assert f'figure: {results["figure"]}' in out


def test_task_det_hands_its_arguments_to_demo_det():
    from cls_utils import load_tool
    demo = load_tool('demo')
    assert demo.parse_args(['--task', 'det', '--smoke', '--seed', '2']) == \
        (['--smoke', '--seed', '2'], 'det')
    args, task = demo.parse_args(['--smoke', '--ga'])
    assert task == 'cls' and args.smoke and args.ga
