"""The step and diagnostics benchmarks run (tiny sizes): they call into the
distillers' internals (the teacher's RoIs, its box head), which a refactor
can move."""
import re

import pytest

from dhkd_det.benchmarks.allocators import missing_library

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
    assert len(re.findall(r'minor page faults/step \d+', proc.stdout)) == 3


def test_allocators_compares_settings_round_robin(tmp_path):
    proc = run_tool(python_tool(
        'benchmarks/allocators.py', '--rounds', '1', '--settings', 'glibc',
        'glibc-thresholds', '--', '--batch', '4', '--iters', '1',
        '--warmup', '0'), cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    for setting in ('glibc', 'glibc-thresholds'):
        assert re.search(rf'^{setting}: a/b [\d.]+ \[', proc.stdout, re.M), \
            proc.stdout
    assert len(re.findall(r'minor page faults/step \d+ \[\d+-\d+\]',
                          proc.stdout)) == 6
    assert 'load average before' in proc.stdout


def test_a_preloaded_allocator_that_is_not_there_is_named():
    # the loader only warns and goes on with glibc: the run would measure
    # glibc under the allocator's name
    assert missing_library({'LD_PRELOAD': 'libnot_installed.so.1'}) == \
        'libnot_installed.so.1'
    assert missing_library({}) is None


def test_diagnostics_cost_measures_the_idle_hook(tmp_path):
    proc = run_tool(python_tool('benchmarks/diagnostics_cost.py', '--batch',
                                '4', '--rounds', '1'), cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r'hook idle / no hook: +[\d.]+', proc.stdout), \
        proc.stdout
