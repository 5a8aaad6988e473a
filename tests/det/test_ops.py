"""mmcv's ops without a compiled mmcv (``dhkd_det/ops``): the served kernels
against hand-computed values, the import paths a user takes, the errors of
ops that are not served; and, where mmcv's compiled ops are installed,
served against compiled on the same inputs (skipped elsewhere)."""
import importlib.util
import json
import math
import os
import os.path as osp
import subprocess
import sys
import types

import pytest
import torch

pytest.importorskip('mmdet')

import dhkd_det  # noqa: E402,F401  installs the finder for mmcv._ext
import mmcv.ops  # noqa: E402
from dhkd_det import ops  # noqa: E402
from dhkd_det.ops.import_hook import SERVED_FILE  # noqa: E402
from mmcv.ops import RoIAlign, batched_nms, nms, sigmoid_focal_loss  # noqa

from det_utils import REPO  # noqa: E402

TESTS = osp.join(REPO, 'tests')

COMPILED = ops.ops_backend() == 'compiled'
needs_compiled = pytest.mark.skipif(
    not COMPILED, reason="mmcv's compiled ops are not installed")
needs_served = pytest.mark.skipif(
    COMPILED, reason="mmcv's compiled ops are in use")


def load_served():
    """served_ext.py as a module of its own, whichever ops mmcv uses."""
    spec = importlib.util.spec_from_file_location('served_ext_under_test',
                                                  SERVED_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SERVED = load_served()


def python(code, cwd, env=None, timeout=600):
    """Runs ``code`` in a fresh interpreter outside the checkout (so only
    the installed package and its start-up hook are seen)."""
    env = dict(os.environ, **(env or {}))
    env.pop('PYTHONPATH', None)
    return subprocess.run([sys.executable, '-c', code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


# ----- how a user reaches mmcv.ops ------------------------------------------
@pytest.mark.slow
def test_import_mmcv_ops_first_in_a_fresh_process(tmp_path):
    proc = python('import mmcv.ops; from mmcv import _ext; '
                  'print(getattr(_ext, "DHKD_SERVED", False))', tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-1] == str(not COMPILED)


@pytest.mark.slow
def test_import_mmdet_models_before_dhkd_det(tmp_path):
    proc = python('import mmdet.models, dhkd_det; print("ok")', tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith('ok')


@pytest.mark.slow
def test_forced_served_ops(tmp_path):
    proc = python('from mmcv import _ext; print(_ext.DHKD_SERVED)', tmp_path,
                  env=dict(DHKD_MMCV_OPS='torchvision'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == 'True'


@pytest.mark.slow
@needs_served
def test_required_compiled_ops_missing_is_a_clear_error(tmp_path):
    proc = python('import mmcv.ops', tmp_path, env=dict(DHKD_MMCV_OPS='mmcv'))
    assert proc.returncode != 0
    assert 'DHKD_MMCV_OPS=mmcv requires' in proc.stderr
    assert 'DHKD_MMCV_OPS=compile bash tools/install.sh' in proc.stderr


@pytest.mark.slow
def test_unknown_ops_mode_is_a_clear_error(tmp_path):
    proc = python('import mmcv.ops', tmp_path, env=dict(DHKD_MMCV_OPS='gpu'))
    assert proc.returncode != 0
    assert "DHKD_MMCV_OPS='gpu' is not understood" in proc.stderr


@pytest.mark.slow
def test_status_command(tmp_path):
    proc = subprocess.run([sys.executable, '-m', 'dhkd_det.ops'],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    backend = 'compiled' if COMPILED else 'served'
    assert f'mmcv ops: {backend}' in proc.stdout
    assert 'dhkd_det_mmcv_ops.pth' in proc.stdout  # the hook is installed


@needs_served
def test_unserved_op_names_itself_and_the_fix():
    with pytest.raises(NotImplementedError,
                       match=r'roi_pool_forward .*DHKD_MMCV_OPS=compile'):
        mmcv.ops.RoIPool(2, 1.0)(torch.ones(1, 1, 4, 4),
                                 torch.tensor([[0., 0, 0, 3, 3]]))
    with pytest.raises(NotImplementedError, match="pool_mode='max'"):
        RoIAlign(2, 1.0, 0, pool_mode='max')(
            torch.ones(1, 1, 4, 4), torch.tensor([[0., 0, 0, 3, 3]]))


def test_cuda_model_with_cpu_only_compiled_ops_is_refused(monkeypatch):
    fake = types.SimpleNamespace(get_compiling_cuda_version=lambda: 'not '
                                 'available')
    monkeypatch.setattr(ops, 'ops_backend', lambda: 'compiled')
    monkeypatch.setitem(sys.modules, 'mmcv._ext', fake)
    monkeypatch.setattr(mmcv, '_ext', fake, raising=False)
    with pytest.raises(RuntimeError, match='built without CUDA kernels.*'
                       'DHKD_MMCV_OPS=torchvision'):
        ops.check_ops_device('cuda:0')
    ops.check_ops_device('cpu')  # CPU kernels are there


def test_det_distiller_checks_the_device_it_is_moved_to(monkeypatch):
    from det_utils import small_retinanet
    from mmdet.registry import MODELS
    from mmengine.registry import DefaultScope

    from dhkd_det.distillers import det_distiller
    seen = []
    monkeypatch.setattr(det_distiller, 'check_ops_device', seen.append)
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(dict(type='DetDistiller',
                                  student=small_retinanet(dual=False)))
    model.to('cpu')
    assert seen and seen[-1] == torch.device('cpu')


# ----- nms --------------------------------------------------------------
def iou(a, b, offset=0):
    w = max(0., min(a[2], b[2]) - max(a[0], b[0]) + offset)
    h = max(0., min(a[3], b[3]) - max(a[1], b[1]) + offset)
    inter = w * h
    area = [(x[2] - x[0] + offset) * (x[3] - x[1] + offset) for x in (a, b)]
    union = area[0] + area[1] - inter
    # two empty boxes: 0 / 0, which the kernels never count as overlapping
    return inter / union if union else 0.0


BOXES = torch.tensor([[0., 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10],
                      [50, 50, 60, 60]])
SCORES = torch.tensor([.9, .8, .7, .6])


@pytest.mark.parametrize('threshold, kept', [
    (0.0, [0, 3]),        # any overlap suppresses
    (0.5, [0, 3]),        # IoU(0, 1) = 81/119 = 0.68 > 0.5
    (0.7, [0, 1, 3]),     # 0.68 < 0.7; box 2 is box 0 (IoU 1 > 0.7)
    (1.0, [0, 1, 2, 3]),  # IoU 1 is not above 1: nothing is suppressed
])
def test_nms_thresholds(threshold, kept):
    assert math.isclose(iou(BOXES[0].tolist(), BOXES[1].tolist()), 81 / 119)
    dets, keep = nms(BOXES, SCORES, threshold)
    assert keep.tolist() == kept
    assert torch.equal(dets, torch.cat([BOXES, SCORES[:, None]], 1)[kept])


def test_nms_offset_one_grows_every_side_by_one():
    boxes = torch.tensor([[0., 0, 9, 9], [5, 0, 14, 9]])
    scores = torch.tensor([.9, .8])
    # offset 1: 50 / 150 = 0.33 > 0.3; offset 0: 36 / 126 = 0.29 < 0.3
    assert math.isclose(iou(*boxes.tolist(), offset=1), 1 / 3)
    assert iou(*boxes.tolist()) < 0.3
    assert nms(boxes, scores, 0.3, offset=1)[1].tolist() == [0]
    assert nms(boxes, scores, 0.3, offset=0)[1].tolist() == [0, 1]


def test_nms_empty_and_zero_area_boxes():
    dets, keep = nms(torch.zeros(0, 4), torch.zeros(0), 0.5)
    assert dets.shape == (0, 5) and keep.numel() == 0
    # (mmcv's batched_nms itself fails on no boxes, with compiled ops too;
    # MMDetection checks for that before calling it)
    # two identical points: 0 / 0 overlap is not above any threshold
    points = torch.tensor([[3., 3, 3, 3], [3, 3, 3, 3]])
    assert nms(points, torch.tensor([.9, .8]), 0.5)[1].tolist() == [0, 1]


def test_batched_nms_keeps_classes_apart():
    boxes = torch.tensor([[0., 0, 10, 10], [0, 0, 10, 10], [1, 1, 10, 10]])
    scores = torch.tensor([.9, .8, .7])
    _, keep = batched_nms(boxes, scores, torch.tensor([0, 1, 0]),
                          dict(type='nms', iou_threshold=0.5))
    assert keep.tolist() == [0, 1]


def is_valid_nms(boxes, scores, keep, threshold):
    """No two kept boxes overlap above the threshold, and every dropped box
    overlaps a kept one of at least its score above it."""
    kept = set(keep.tolist())
    b = boxes.tolist()
    for i in kept:
        for j in kept:
            if i < j and iou(b[i], b[j]) > threshold + 1e-6:
                return False
    return all(
        any(iou(b[i], b[k]) > threshold - 1e-6 and scores[k] >= scores[i]
            for k in kept) for i in range(len(b)) if i not in kept)


def test_nms_with_tied_scores_is_valid():
    gen = torch.Generator().manual_seed(0)
    xy = torch.rand(40, 2, generator=gen) * 30
    boxes = torch.cat([xy, xy + 8 + torch.rand(40, 2, generator=gen) * 8], 1)
    scores = (torch.rand(40, generator=gen) * 4).round() / 4  # 5 levels
    keep = nms(boxes, scores, 0.4)[1]
    assert len(keep) < 40
    assert is_valid_nms(boxes, scores, keep, 0.4)


# ----- RoIAlign ------------------------------------------------------------
def ramp(height=16, width=16):
    """f(y, x) = 2x + 3y + 1: bilinear interpolation is exact on it, so a
    bin's average over symmetric samples is f at the bin's centre."""
    ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float64),
                            torch.arange(width, dtype=torch.float64),
                            indexing='ij')
    return (2 * xs + 3 * ys + 1)[None, None]


@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('sampling_ratio', [0, 2])
def test_roi_align_on_a_ramp(aligned, sampling_ratio):
    scale, out_size = 0.5, (3, 4)
    roi = [4., 6., 20., 18.]  # x1, y1, x2, y2 in image pixels
    out = RoIAlign(out_size, scale, sampling_ratio, aligned=aligned)(
        ramp(), torch.tensor([[0.] + roi], dtype=torch.float64))
    shift = 0.5 if aligned else 0.0
    x1, y1, x2, y2 = (v * scale - shift for v in roi)
    bin_h, bin_w = (y2 - y1) / out_size[0], (x2 - x1) / out_size[1]
    expected = torch.tensor([[2 * (x1 + (pw + .5) * bin_w) +
                              3 * (y1 + (ph + .5) * bin_h) + 1
                              for pw in range(out_size[1])]
                             for ph in range(out_size[0])],
                            dtype=torch.float64)
    assert torch.allclose(out[0, 0], expected, atol=1e-9)


def test_roi_align_beyond_the_border():
    ones = torch.ones(1, 1, 8, 8)
    # samples x = 5, 7 fall inside; x = 9, 11 beyond the 8-pixel width
    out = RoIAlign((1, 2), 1.0, 2, aligned=False)(
        ones, torch.tensor([[0., 4, 0, 12, 4]]))
    assert out.flatten().tolist() == [1.0, 0.0]
    outside = RoIAlign(2, 1.0, 0)(ones, torch.tensor([[0., 40, 40, 50, 50]]))
    assert torch.equal(outside, torch.zeros(1, 1, 2, 2))


def test_roi_align_zero_area_roi():
    feat = ramp(8, 8)
    roi = torch.tensor([[0., 3.5, 2.5, 3.5, 2.5]], dtype=torch.float64)
    # adaptive sampling takes ceil(0 / bin) = 0 samples: the bins are 0
    assert torch.equal(RoIAlign(2, 1.0, 0)(feat, roi),
                       torch.zeros(1, 1, 2, 2, dtype=torch.float64))
    # two samples per side, all at (3, 2) after the half-pixel shift
    assert torch.allclose(RoIAlign(2, 1.0, 2)(feat, roi),
                          torch.full((1, 1, 2, 2), 2 * 3. + 3 * 2 + 1,
                                     dtype=torch.float64))


def test_roi_align_empty_rois_and_backward():
    feat = torch.rand(2, 3, 8, 8, requires_grad=True)
    out = RoIAlign(2, 1.0, 0)(feat, torch.zeros(0, 5))
    assert out.shape == (0, 3, 2, 2)
    out.sum().backward()
    assert torch.equal(feat.grad, torch.zeros_like(feat))


def test_roi_align_backward():
    feat = torch.rand(2, 2, 10, 10, dtype=torch.float64, requires_grad=True)
    rois = torch.tensor([[0., 1, 1, 7, 6], [1, 2.5, 0.5, 9, 8]],
                        dtype=torch.float64)
    for aligned in (True, False):
        layer = RoIAlign(3, 1.0, 2, aligned=aligned)
        assert torch.autograd.gradcheck(lambda f: layer(f, rois), (feat, ))
        feat.grad = None
        grad_out = torch.rand(2, 2, 3, 3, dtype=torch.float64)
        layer(feat, rois).backward(grad_out)
        # every sample lies inside: each output spreads its whole gradient
        assert torch.isclose(feat.grad.sum(), grad_out.sum())


# ----- sigmoid focal loss ---------------------------------------------------
# (mmcv compiles this kernel for CUDA only: with compiled ops the CPU tests
# below have nothing to run)
@needs_served
def test_sigmoid_focal_loss_by_hand():
    logits = torch.tensor([[0., 2.], [1., -1.]], requires_grad=True)
    target = torch.tensor([1, 2])  # 2 = background: both classes negative
    gamma, alpha = 2.0, 0.25
    loss = sigmoid_focal_loss(logits, target, gamma, alpha, None, 'none')

    def by_hand(x, positive):
        p = 1 / (1 + math.exp(-x))
        if positive:
            return -alpha * (1 - p)**gamma * math.log(p)
        return -(1 - alpha) * p**gamma * math.log(1 - p)

    expected = [[by_hand(0, False), by_hand(2, True)],
                [by_hand(1, False), by_hand(-1, False)]]
    assert torch.allclose(loss, torch.tensor(expected), rtol=1e-6)
    mean = sigmoid_focal_loss(logits, target, gamma, alpha, None, 'mean')
    assert torch.isclose(mean, torch.tensor(expected).sum() / 2)


@needs_served
def test_sigmoid_focal_loss_matches_mmdet_python_version():
    from mmdet.models.losses.focal_loss import py_sigmoid_focal_loss
    gen = torch.Generator().manual_seed(0)
    # float64: the two formulas (log p against BCE with logits) then agree
    # to rounding, so a wrong term would show
    logits = (torch.randn(50, 7, generator=gen, dtype=torch.float64) *
              4).requires_grad_()
    target = torch.randint(0, 8, (50, ), generator=gen)  # 7 = background
    ref_logits = logits.detach().clone().requires_grad_()
    onehot = torch.nn.functional.one_hot(target, 8)[:, :7].double()
    grad = torch.rand(50, 7, generator=gen, dtype=torch.float64)
    ours = sigmoid_focal_loss(logits, target, 2.0, 0.25, None, 'none')
    ref = py_sigmoid_focal_loss(ref_logits, onehot, None, 2.0, 0.25, 'none')
    assert torch.allclose(ours, ref, rtol=1e-9, atol=1e-15)
    ours.backward(grad)
    ref.backward(grad)
    assert torch.allclose(logits.grad, ref_logits.grad, rtol=1e-9,
                          atol=1e-15)


@needs_served
def test_sigmoid_focal_loss_class_weights():
    logits = torch.tensor([[0.5, -0.5]])
    weight = torch.tensor([2.0, 3.0])
    plain = sigmoid_focal_loss(logits, torch.tensor([1]), 2.0, .25, None,
                               'none')
    weighted = sigmoid_focal_loss(logits, torch.tensor([1]), 2.0, .25,
                                  weight, 'none')
    assert torch.allclose(weighted, plain * 3.0)  # the target's weight


# ----- served against compiled ------------------------------------------
def random_rois(gen, num, height, width, batch):
    xy = torch.rand(num, 2, generator=gen) * torch.tensor([width, height])
    wh = torch.rand(num, 2, generator=gen) * 12
    wh[::7] = 0  # zero-area RoIs
    xy[::5] -= 6  # across the left / top border
    xy[1::5] += width  # beyond the right border
    idx = torch.randint(0, batch, (num, 1), generator=gen).float()
    return torch.cat([idx, xy, xy + wh], 1)


@needs_compiled
@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('sampling_ratio', [0, 2])
def test_roi_align_equals_compiled(aligned, sampling_ratio):
    from mmcv import _ext as compiled
    gen = torch.Generator().manual_seed(sampling_ratio + 3 * aligned)
    feat = torch.randn(2, 4, 12, 16, generator=gen)
    for rois in (random_rois(gen, 60, 12, 16, 2), torch.zeros(0, 5)):
        args = dict(aligned_height=3, aligned_width=5, spatial_scale=0.5,
                    sampling_ratio=sampling_ratio, pool_mode=1,
                    aligned=aligned)
        outs = [feat.new_zeros(len(rois), 4, 3, 5) for _ in range(2)]
        empty = feat.new_zeros(0)
        compiled.roi_align_forward(feat, rois, outs[0], empty, empty, **args)
        SERVED.roi_align_forward(feat, rois, outs[1], empty, empty, **args)
        assert torch.equal(outs[0], outs[1])
        grad = torch.randn(len(rois), 4, 3, 5, generator=gen)
        grads = [torch.zeros_like(feat) for _ in range(2)]
        compiled.roi_align_backward(grad, rois, empty, empty, grads[0],
                                    **args)
        SERVED.roi_align_backward(grad, rois, empty, empty, grads[1], **args)
        assert torch.allclose(grads[0], grads[1], atol=1e-6)


@needs_compiled
@pytest.mark.parametrize('threshold', [0.0, 0.5, 1.0])
@pytest.mark.parametrize('offset', [0, 1])
def test_nms_equals_compiled(threshold, offset):
    from mmcv import _ext as compiled
    gen = torch.Generator().manual_seed(int(threshold * 10) + offset)
    xy = torch.rand(300, 2, generator=gen) * 100
    boxes = torch.cat([xy, xy + torch.rand(300, 2, generator=gen) * 30], 1)
    boxes[::17, 2:] = boxes[::17, :2]  # zero-area boxes
    scores = torch.rand(300, generator=gen)  # no ties
    for b, s in ((boxes, scores), (boxes[:0], scores[:0])):
        ref = compiled.nms(b, s, iou_threshold=threshold, offset=offset)
        ours = SERVED.nms(b, s, iou_threshold=threshold, offset=offset)
        assert torch.equal(ref, ours)
    # with ties the two may keep other boxes (mmcv's CPU sort is unstable):
    # each result must be a valid nms of its own
    tied = (scores * 4).round() / 4
    for kernel in (compiled, SERVED):
        keep = kernel.nms(boxes, tied, iou_threshold=0.5, offset=0)
        assert is_valid_nms(boxes, tied, keep, 0.5)


TRAIN_SCRIPT = r'''
import json, sys
import torch
import dhkd_det
from mmengine.registry import DefaultScope
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
sys.path.insert(0, TESTS_DIR)
from det_utils import small_faster_rcnn, small_retinanet
from mmcv import _ext
result = dict(served=getattr(_ext, 'DHKD_SERVED', False))
with DefaultScope.overwrite_default_scope('mmdet'):
    for name, cfg in (('faster_rcnn', small_faster_rcnn(dual=False)),
                      ('retinanet', small_retinanet(dual=False))):
        torch.manual_seed(0)
        model = MODELS.build(cfg)
        model.init_weights()
        data = model.data_preprocessor(demo_mm_inputs(
            2, [[3, 128, 160]] * 2, num_items=[3, 2], num_classes=3), True)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        losses = []
        for _ in range(3):
            parsed, log = model.parse_losses(
                model.loss(data['inputs'], data['data_samples']))
            opt.zero_grad()
            parsed.backward()
            opt.step()
            losses.append({k: float(v) for k, v in log.items()})
        model.eval()
        with torch.no_grad():
            pred = model.predict(data['inputs'], data['data_samples'])
        result[name] = dict(losses=losses, boxes=[
            p.pred_instances.bboxes[:20].tolist() for p in pred])
print(json.dumps(result))
'''


@pytest.mark.slow
@needs_compiled
def test_tiny_detectors_train_alike_under_served_and_compiled(tmp_path):
    runs = {}
    for mode in ('torchvision', 'mmcv'):
        proc = python(TRAIN_SCRIPT.replace('TESTS_DIR', repr(TESTS)),
                      tmp_path, env=dict(DHKD_MMCV_OPS=mode))
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs[mode] = json.loads(proc.stdout.splitlines()[-1])
    assert runs['torchvision']['served'] and not runs['mmcv']['served']
    for name in ('faster_rcnn', 'retinanet'):
        served, compiled = runs['torchvision'][name], runs['mmcv'][name]
        for a, b in zip(served['losses'], compiled['losses']):
            assert a.keys() == b.keys()
            for key in a:
                assert math.isclose(a[key], b[key], rel_tol=1e-4,
                                    abs_tol=1e-6), (name, key)
        assert torch.allclose(torch.tensor(served['boxes']),
                              torch.tensor(compiled['boxes']), atol=1e-3)


# ----- MMDetection's own train.py in a user's project ---------------------
@pytest.mark.slow
def test_mmdetection_train_tool_with_custom_imports(tmp_path):
    """A project config that pulls dhkd_det in by ``custom_imports`` trains
    with MMDetection's own tools/train.py, outside our checkout."""
    import mmdet
    from mmengine.config import Config

    from det_utils import (SMALL_FASTER_RCNN, save_detector, small_data_cfg,
                           write_config, write_tiny_coco)
    data = str(tmp_path / 'data')
    write_tiny_coco(data, 'train', num_images=2, seed=0)
    write_tiny_coco(data, 'val', num_images=1, seed=1)
    small = f'model = {SMALL_FASTER_RCNN!r}\n'
    teacher = write_config(
        str(tmp_path / 'teacher.py'),
        "_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py'\n" +
        small)
    ckpt = str(tmp_path / 'teacher.pth')
    save_detector(ckpt, Config.fromfile(teacher).model, seed=1)
    project = write_config(
        str(tmp_path / 'project.py'),
        f"_base_ = {osp.join(REPO, 'configs', 'dhkd', 'coco_faster_rcnn_r101_r50.py')!r}\n"  # noqa: E501
        "custom_imports = dict(imports=['dhkd_det'], "
        "allow_failed_imports=False)\n"
        f'model = dict(student={SMALL_FASTER_RCNN!r}, teacher={teacher!r}, '
        f'teacher_ckpt={ckpt!r})\n'
        'train_cfg = dict(max_epochs=1)\n' + small_data_cfg(data))
    train = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools',
                     'train.py')
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    proc = subprocess.run(
        [sys.executable, train, project, '--work-dir',
         str(tmp_path / 'work')], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert 'loss_binary_kl_norm_aux' in out and 'coco/bbox_mAP' in out
    assert osp.isfile(tmp_path / 'work' / 'epoch_1.pth')
