"""The offline classification demo runs end to end in its smoke mode (CI runs
the full default through the README's first command): progress lines
without MMEngine's noise, the teacher the students learnt from is the one it
trained, that teacher is reused by a later run, and the table it prints is
what it saved."""
import json
import os.path as osp

import pytest
from mmengine.config import Config

from cls_utils import python_tool, run_tool
from conftest import make_cifar
from dhkd_det.experiments import demo_cls


def test_demo_smoke(tmp_path, capsys):
    proc = run_tool(python_tool('demo.py', '--smoke', '--work-dir',
                                str(tmp_path)),
                    cwd=str(tmp_path), env_extra={'OMP_NUM_THREADS': '2'})
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = proc.stdout
    results = json.loads((tmp_path / 'results.json').read_text())

    # a progress line per run (1 epoch each in the smoke mode), no noise
    assert f'[teacher {demo_cls.TEACHER}] epoch 1/1  loss ' in out
    for variant in ('ce_only', 'logit_only', 'one_head_both', 'dhkd'):
        assert f'[{variant}] epoch 1/1  loss ' in out
    for noise in ('FileClient', 'Loads checkpoint', ' - mmengine - ',
                  'Warning'):
        assert noise not in out + proc.stderr

    # the students distilled from the teacher trained in step 1, which
    # stays in the cache
    teacher = results['teacher']
    assert not teacher['cached']
    assert teacher['checkpoint'].startswith(str(tmp_path / 'teacher_cache'))
    assert osp.isfile(teacher['checkpoint'])
    dhkd = Config.fromfile(
        str(tmp_path / 'ablation' / 'dhkd' / 'seed_0' / 'dhkd.py'))
    assert dhkd.model.teacher_ckpt == teacher['checkpoint']
    assert dhkd.model.teacher.type == demo_cls.TEACHER
    alone = results['ablation'][0]  # ce_only: the student alone
    assert (f'top-1 {teacher["top1"]:.2f}% (the student alone: '
            f'{alone["top-1 last"]}%)') in out

    # the table printed holds the saved rows, and the figure was drawn
    rows = results['ablation']
    assert [r['variant'] for r in rows] == ['ce_only', 'logit_only',
                                            'one_head_both', 'dhkd']
    for row in rows:
        assert f'| {row["variant"]} | 1 | {row["top-1 last"]} |' in out
    assert results['figure'].endswith('ablation.png')
    assert (tmp_path / 'ablation' / 'plots' / 'ablation.png').stat().st_size
    assert f'figure: {results["figure"]}' in out

    # a later run on the same data, seed and epochs reuses the teacher
    mtime = osp.getmtime(teacher['checkpoint'])
    again = demo_cls.cached_teacher(str(tmp_path / 'teacher_cache'),
                                    str(tmp_path / 'data'), epochs=1, seed=0)
    assert again['cached'] and 'trained by an earlier run' in \
        capsys.readouterr().out
    assert again['checkpoint'] == teacher['checkpoint']
    assert again['top1'] == teacher['top1']
    assert osp.getmtime(teacher['checkpoint']) == mtime


def test_teacher_key_covers_what_decides_the_teacher(tmp_path):
    root = tmp_path / 'data'
    make_cifar(str(root), num_classes=10, n_train=16, n_test=8)

    def key(epochs=2, seed=0):
        return demo_cls.teacher_key(
            demo_cls.teacher_options(str(root), epochs, seed), str(root))

    first = key()
    assert key() == first  # the same inputs: the same teacher
    assert key(epochs=3) != first
    assert key(seed=1) != first
    data = root / 'cifar-100-python' / 'test'
    data.write_bytes(data.read_bytes() + b' ')
    assert key() != first


def test_command_line(tmp_path):
    help_text = run_tool(python_tool('demo.py', '--help'),
                         cwd=str(tmp_path)).stdout
    assert '--task {cls,det}' in help_text
    assert 'teacher_cache' in help_text  # where the teacher is kept
    # --task det hands every other argument to the detection demo
    det_help = run_tool(python_tool('demo.py', '--task', 'det', '--help'),
                        cwd=str(tmp_path)).stdout
    assert '[--seed SEED]' in det_help and '--seeds' not in det_help
    parser = demo_cls.argument_parser()
    args = parser.parse_args(['--smoke', '--ga', '--seeds', '0', '1'])
    assert args.smoke and args.ga and args.seeds == [0, 1]
    with pytest.raises(SystemExit):
        parser.parse_args(['--teacher-epochs', '0'])
