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

from dhkd_det.benchmarks import (Report, count_host_syncs, summarise_syncs,
                                 summary)
from dhkd_det.benchmarks.det_step import STEPS
from dhkd_det.benchmarks.interleaved import interleaved_times

from cls_utils import REPO, run_tool

SCRIPT = 'tools/benchmarks/gpu_check.py'
PARTS = ('env', 'ops', 'cls_setup', 'cls_graph_equality', 'cls',
         'cls_host_syncs', 'cls_ceiling', 'det_setup', 'det_faster_rcnn',
         'det_retinanet', 'det_step_ratio', 'det_test', 'imagenet_input',
         'cls_packing', 'summary')


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
        # no GPU: no peak memory, and not a made-up 0
        for peak in ('peak_gpu_mem_gib_warmup', 'peak_gpu_mem_gib_steady'):
            assert report[kind][peak].startswith('unavailable'), peak
    ratio = report['det_step_ratio']
    assert set(ratio['best_ms']) == set(STEPS)
    numbers_in(ratio, ('ratio', 'rois'))
    assert report['det_test']['metrics']['coco/bbox_mAP'] >= 0
    numbers_in(report['summary'], ('cls_best_projected_240e_min', ))


def test_smoke_packs_training_processes(smoke):
    packing = smoke[0]['cls_packing']
    assert packing['variant'] == 'gpu_resident-fp32-nchw-ga-graph'
    assert [c['processes'] for c in packing['counts']] == [1, 2]
    for c in packing['counts']:
        assert len(c['per_process_it_per_s']) == c['processes']
        assert c['barrier_timed_out'] is False  # the windows started together
        numbers_in(c, ('aggregate_it_per_s', 'aggregate_it_per_s_wall',
                       'run_240e_min', 'batch_240e_min',
                       'per_run_240e_min_amortised'))
        assert c['aggregate_it_per_s'] == pytest.approx(
            sum(c['per_process_it_per_s']), abs=0.05)
        assert c['per_run_240e_min_amortised'] == pytest.approx(
            c['batch_240e_min'] / c['processes'], abs=0.1)
    assert set(smoke[0]['summary']['cls_packing_aggregate_it_per_s']) == {
        '1', '2'}


def test_smoke_summary_judges_every_target(smoke):
    targets = smoke[0]['summary']['targets']
    assert set(targets) == {'cls_ga_240e_min', 'cls_plain_240e_min',
                            'cls_ga_over_plain', 'det_step_ratio',
                            'imagenet_input_ratio'}
    for target in targets.values():
        assert isinstance(target['measured'], numbers.Number), target
        op, limit = target['target'].split()
        meets = (target['measured'] <= float(limit) if op == '<=' else
                 target['measured'] >= float(limit))
        assert target['status'] == ('met' if meets else 'not met')
    assert set(smoke[0]['summary']['cls_graph_max_log_diff']) == {
        'plain', 'ga', 'bf16', 'ga_augmented'}
    imagenet = smoke[0]['imagenet_input']
    numbers_in(imagenet, ('ours_images_per_s', 'torchvision_images_per_s',
                          'r34_r18_step_images_per_s'))


def test_summary_says_what_was_not_measured():
    ga_only = dict(cls=dict(variants=[dict(
        name='v', ga=True, it_per_s=100.0, ms_per_iter=10.0,
        projected_240e_min=31.3)]))
    targets = summary(ga_only)['targets']
    assert targets['cls_ga_240e_min']['status'] == 'not met'
    for key in ('cls_plain_240e_min', 'cls_ga_over_plain',
                'det_step_ratio'):
        assert targets[key] == dict(targets[key], measured=None,
                                    status='not measured')
    failed = dict(cls_packing=dict(counts=[dict(processes=8,
                                                error='RuntimeError: x')]))
    assert summary(failed)['failed'] == ['cls_packing-8']


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
