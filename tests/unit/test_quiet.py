"""The demos' console quieting: pycocotools' prints and MMEngine's
deprecation notices go, everything else stays."""
import io
import logging
import re

from dhkd_det.utils.quiet import (PYCOCOTOOLS_LINE, LineFilter,
                                   not_deprecation_notice, quiet_pycocotools)


def test_line_filter_drops_whole_matching_lines_across_writes():
    out = io.StringIO()
    stream = LineFilter(out, re.compile(r'^drop'))
    for chunk in ('keep 1\ndr', 'op this\nkeep', ' 2\n', 'drop\n', 'tail'):
        stream.write(chunk)
    assert out.getvalue() == 'keep 1\nkeep 2\n'
    assert stream.pending == 'tail'  # an unfinished line waits


def test_quiet_pycocotools_keeps_other_prints(capsys):
    with quiet_pycocotools():
        print('loading annotations into memory...')
        print('Done (t=0.00s)')
        print(' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | '
              'maxDets=100 ] = 0.491')
        print('[teacher] epoch 1/10  loss 1.0  coco/bbox_mAP 0.02')
        print('no newline at the end', end='')
    assert capsys.readouterr().out == (
        '[teacher] epoch 1/10  loss 1.0  coco/bbox_mAP 0.02\n'
        'no newline at the end\n')
    assert PYCOCOTOOLS_LINE.match('index created!')


def test_deprecation_notices_filtered_others_kept():
    def record(message):
        return logging.LogRecord('mmengine', logging.WARNING, __file__, 1,
                                 message, None, None)
    assert not not_deprecation_notice(record(
        '"FileClient" will be deprecated in future. Please use io functions'))
    assert not not_deprecation_notice(record(
        '"HardDiskBackend" is the alias of "LocalBackend" and the former '
        'will be deprecated in future.'))
    assert not_deprecation_notice(record(
        'LossGuardHook: loss is NaN at iteration 12'))
