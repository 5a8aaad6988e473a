"""The console a tool holds back while its runner is being built
(dhkd_det/apis/held_console.py): printed as it was once the run starts,
written into the failure's log (never onto the console) when it does not."""
import io
import os.path as osp
import sys

import pytest

from dhkd_det.apis.failed_start import MAX_LINES, note_work_dir, run_tool
from dhkd_det.apis.held_console import (HeldStream, ReleaseConsoleHook,
                                        hold_console, release_console)


def test_a_held_stream_keeps_then_prints_in_order():
    out = io.StringIO()
    held = HeldStream(out)
    held.write('environment\n')
    held.write('config\n')
    assert out.getvalue() == '' and held.holding
    held.release()
    held.write('epoch 1\n')
    assert out.getvalue() == 'environment\nconfig\nepoch 1\n'
    assert not held.holding
    assert held.take() == ''  # nothing held twice


def test_what_is_taken_is_not_printed():
    out = io.StringIO()
    held = HeldStream(out)
    held.write('environment\n')
    assert held.take() == 'environment\n'
    held.write('after\n')
    assert out.getvalue() == 'after\n'


def test_the_hook_releases_at_the_first_epoch(capsys):
    real = sys.stdout
    hold_console()
    try:
        print('environment dump')
        assert sys.stdout is not real
        ReleaseConsoleHook().before_train_epoch(None)
        assert sys.stdout is real
    finally:
        release_console()
    assert capsys.readouterr().out == 'environment dump\n'


def test_a_start_that_fails_logs_the_held_console(tmp_path, capsys):
    def main():
        note_work_dir(str(tmp_path / 'wd'))
        hold_console()
        for i in range(300):  # MMEngine's environment and config
            print(f'config line {i}')
        raise ValueError('the teacher does not fit')

    with pytest.raises(SystemExit) as info:
        run_tool(main, 'train')
    assert info.value.code == 1
    captured = capsys.readouterr()
    assert captured.out == ''
    err = captured.err.splitlines()
    assert err[0] == 'ValueError: the teacher does not fit'
    assert len(err) == 2 <= MAX_LINES
    log = err[-1].split('the full log, with the traceback: ')[1]
    assert osp.dirname(log) == str(tmp_path / 'wd')
    text = open(log).read()
    assert 'Traceback (most recent call last)' in text
    assert 'config line 0\n' in text and 'config line 299\n' in text
    # the console passes through again
    print('later')
    assert capsys.readouterr().out == 'later\n'
    note_work_dir(None)


def test_a_run_that_ends_while_held_prints_it(capsys):
    def main():
        hold_console()
        print('environment dump')
        raise SystemExit(75)  # preempted while building

    with pytest.raises(SystemExit) as info:
        run_tool(main, 'train')
    assert info.value.code == 75
    assert capsys.readouterr().out == 'environment dump\n'
