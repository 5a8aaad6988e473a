"""tools/benchmarks/gpu_check.py --smoke: every part of the GPU check runs
on the CPU and reports numbers, so the script is known to work before the
one run it gets on a GPU; and the harness of dhkd_det.benchmarks it is
made of."""
import json
import numbers
import subprocess
import sys
import time

import pytest
import torch

from dhkd_det.benchmarks import Report, count_host_syncs, summarise_syncs
from dhkd_det.benchmarks.interleaved import interleaved_times

from cls_utils import REPO, run_tool

SCRIPT = 'tools/benchmarks/gpu_check.py'
PARTS = ('env', 'ops', 'cls_setup', 'cls_graph_equality', 'cls',
         'cls_host_syncs', 'cls_ceiling',
         'det_setup', 'det_faster_rcnn', 'det_retinanet', 'det_test',
         'summary')


def numbers_in(entry: dict, keys) -> None:
    for key in keys:
        assert isinstance(entry[key], numbers.Number), (key, entry)


@pytest.fixture(scope='module')
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp('gpu_check') / 'check.json'
    proc = run_tool([sys.executable, SCRIPT, '--smoke', '--out', str(out)],
                    cwd=REPO, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout), json.loads(out.read_text())


def test_smoke_prints_the_json_it_writes(smoke):
    printed, written = smoke
    assert printed == written
    assert set(PARTS) <= set(printed)


def test_smoke_every_part_has_numbers(smoke):
    report = smoke[0]
    for part in PARTS[:-1]:
        assert 'error' not in report[part], (part, report[part])
        assert 'skipped' not in report[part], (part, report[part])
    assert report['summary']['failed'] == []
    assert report['summary']['skipped'] == []
    assert report['env']['torch'] == torch.__version__
    for device_results in report['ops']['results'].values():
        assert set(device_results) == {
            'nms', 'batched_nms', 'roi_align', 'roi_align_grad',
            'sigmoid_focal_loss', 'sigmoid_focal_loss_grad'}
        for result in device_results.values():
            assert result['max_abs_diff_vs_cpu'] == 0
            assert result['max_abs_diff_vs_torchvision'] < 1e-4
    variants = report['cls']['variants']
    # every step, loader, precision, memory format and wrapper at least once
    for key in ('graph', 'loader', 'precision', 'channels_last', 'ga'):
        assert len({v[key] for v in variants}) == 2, key
    for v in variants:
        numbers_in(v, ('it_per_s', 'ms_per_iter', 'projected_240e_min'))
    syncs = report['cls_host_syncs']
    for name in ('gpu_resident-fp32-nchw-ga-eager',
                 'gpu_resident-fp32-nchw-ga-graph',
                 'cpu_workers-fp32-nchw-ga-eager'):
        # the window ends with the run: its last iteration's reads, by our
        # hooks, are all there is (MMEngine no longer reads the outputs)
        callers = syncs[name]['per_iter_by_caller']
        assert set(syncs[name]['per_iter_by_package']) == {'dhkd_det'}, \
            callers
        assert any('deferred_runtime_info_hook' in c for c in callers)
    equality = report['cls_graph_equality']
    for kind, tol in (('plain', 1e-5), ('ga', 1e-5), ('bf16', 1e-2),
                      ('ga_augmented', 1e-5)):
        # on CPU the step runs uncaptured: no capture, the same numbers
        assert equality[kind]['graphed'] and equality[kind]['same_keys']
        assert equality[kind]['captures'] == 0
        assert equality[kind]['max_log_diff'] <= tol, (kind, equality)
        assert equality[kind]['max_weight_diff'] <= tol, (kind, equality)
    for precision in ('fp32', 'bf16'):
        numbers_in(report['cls_ceiling'][precision],
                   ('it_per_s', 'projected_240e_min'))
    for kind in ('det_faster_rcnn', 'det_retinanet'):
        numbers_in(report[kind], ('s_per_iter', 'teacher_s_per_iter',
                                  'teacher_share'))
        assert 0 < report[kind]['teacher_share'] < 1
    assert report['det_test']['metrics']['coco/bbox_mAP'] >= 0
    numbers_in(report['summary'], ('cls_best_projected_240e_min', ))


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a CPU-only '
                    'machine')
def test_without_cuda_it_says_so():
    proc = subprocess.run([sys.executable, SCRIPT], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert 'no CUDA device' in proc.stderr and '--smoke' in proc.stderr


def test_report_records_errors_and_time_limits(tmp_path):
    report = Report(str(tmp_path / 'r.json'), budget=60)
    report.part('fine', lambda: dict(value=1), cap=10)
    report.part('broken', lambda: 1 / 0, cap=10)
    report.part('hung', lambda: time.sleep(5), cap=1)
    written = json.loads((tmp_path / 'r.json').read_text())
    assert written == report.data
    assert written['fine']['value'] == 1
    assert written['broken']['error'].startswith('ZeroDivisionError')
    assert 'PartTimeout' in written['hung']['error']
    assert written['hung']['seconds'] < 4
    spent = Report(None, budget=0)
    assert 'skipped' in spent.run(lambda: dict(value=1), cap=10)


def _reads_twice(x):
    return float(x.sum()) + x.max().item()


def test_host_syncs_are_counted_by_caller_on_cpu():
    x = torch.arange(4.0)
    with count_host_syncs('cpu') as counts:
        _reads_twice(x)
        _reads_twice(x)
        x + 1  # no read
    (where, n), = counts.items()
    assert n == 4
    assert where.startswith(f'{__name__}:') and '(_reads_twice)' in where
    summary = summarise_syncs(counts, iters=2)
    assert summary['per_iter'] == 2
    assert summary['per_iter_by_package'] == {__name__: 2}


def test_interleaved_times_rotate_the_order():
    order = []
    steps = {name: (lambda name=name: order.append(name)) for name in 'abc'}
    times = interleaved_times(steps, rounds=2, warmup=1)
    assert order == list('abc' 'bca' 'cab')
    assert {name: len(ts) for name, ts in times.items()} == dict(a=2, b=2,
                                                                  c=2)
