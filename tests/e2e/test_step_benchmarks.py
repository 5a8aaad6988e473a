"""The step and diagnostics benchmarks run (tiny sizes): they call into the distillers'
internals (the teacher's RoIs, its box head), which a refactor can move."""
import re

import pytest

from cls_utils import python_tool, run_tool


def test_det_step_measures_its_three_steps(tmp_path):
    pytest.importorskip('mmdet')
    proc = run_tool(python_tool(
        'benchmarks/det_step.py', '--size', '64', '--iters', '1',
        '--warmup', '0', '--student-depth', '18', '--teacher-depth', '18'),
        cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    for step in ('student-only step', 'teacher forward', 'DHKD step'):
        assert re.search(rf'{step}\s+[\d.]+ ms', proc.stdout), proc.stdout
    assert re.search(r'ratio DHKD / \(student-only \+ teacher forward\) = '
                     r'[\d.]+', proc.stdout)


def test_train_step_measures_its_ratios(tmp_path):
    proc = run_tool(python_tool('benchmarks/train_step.py', '--batch', '4',
                                '--iters', '1', '--warmup', '0'),
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r'a/b = [\d.]+', proc.stdout), proc.stdout
    assert re.search(r'c/a = [\d.]+', proc.stdout)


def test_diagnostics_cost_measures_the_idle_hook(tmp_path):
    proc = run_tool(python_tool('benchmarks/diagnostics_cost.py', '--batch',
                                '4', '--rounds', '1'), cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r'hook idle / no hook: +[\d.]+', proc.stdout), \
        proc.stdout
