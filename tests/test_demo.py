"""The offline demo runs end to end (a 1-epoch smoke run on a subset; CI
runs the full default through the README's first command)."""
import json

from cls_utils import python_tool, run_tool


def test_demo_smoke(tmp_path):
    proc = run_tool(python_tool('demo.py', '--epochs', '1', '--max-train',
                                '96', '--work-dir', str(tmp_path)),
                    cwd=str(tmp_path), env_extra={'OMP_NUM_THREADS': '2'})
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert '| model' in proc.stdout and 'DHKD' in proc.stdout
    results = json.load(open(tmp_path / 'results.json'))
    assert len(results) == 4
    for name, top1 in results.items():  # the table prints what was saved
        assert f'| {top1:9.2f} |' in proc.stdout, name
    # the teacher the students learnt from is the one trained in step 1
    assert (tmp_path / 'teacher_resnet56' / 'epoch_1.pth').is_file()
