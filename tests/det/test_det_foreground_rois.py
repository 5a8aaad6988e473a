"""DetDistiller's ``distill_rois='foreground'``: the distillation losses of
a two-stage student on the sampled RoIs matched to an object only (CPU,
small Faster R-CNN, random init)."""
import math

import pytest

pytest.importorskip('mmdet')
pytest.importorskip('mmcv.ops')

import torch  # noqa: E402
from mmdet.registry import MODELS  # noqa: E402
from mmdet.testing import demo_mm_inputs  # noqa: E402

import dhkd_det  # noqa: E402,F401
from dhkd_det.distillers import det_distiller  # noqa: E402
from det_utils import (CLASSES, mmdet_scope, save_detector,  # noqa
                       small_faster_rcnn, small_retinanet)

KD_MAIN = dict(main=dict(type='KDLoss', temperature=2.0))
BKL_AUX = dict(aux=dict(type='BinaryKLNormLoss', temperature=2.0))


def build(tmp_path, student, teacher, distill_losses, **kwargs):
    ckpt = str(tmp_path / 'teacher.pth')
    save_detector(ckpt, teacher, seed=1)
    torch.manual_seed(0)
    model = MODELS.build(dict(type='DetDistiller', student=student,
                              teacher=teacher, teacher_ckpt=ckpt,
                              distill_losses=distill_losses, **kwargs))
    model.init_weights()
    return model.train()


def losses_on(model, num_items, seed=0):
    """The loss dict of one training forward on a fixed batch and RNG state
    (the RoI sampler is random)."""
    torch.manual_seed(seed)
    data = demo_mm_inputs(batch_size=len(num_items),
                          image_shapes=(3, 128, 160), num_items=num_items,
                          num_classes=len(CLASSES))
    data = model.data_preprocessor(data, True)
    torch.manual_seed(seed + 1)
    return model(**data, mode='loss')


def test_foreground_distils_the_sampled_rois_matched_to_objects(
        tmp_path, monkeypatch):
    """The same step with 'all' and with 'foreground': the teacher runs on
    exactly the sampled RoIs whose target is an object, and the student's
    logits of those RoIs are the ones compared."""
    model = build(tmp_path, small_faster_rcnn(), small_faster_rcnn(dual=False),
                  BKL_AUX)
    seen = []
    teacher_scores = det_distiller.stage_cls_scores

    def record(roi_head, stage, x, rois):
        seen.append(rois)
        return teacher_scores(roi_head, stage, x, rois)

    monkeypatch.setattr(det_distiller, 'stage_cls_scores', record)
    groups = []
    student_pass = model._two_stage_student

    def record_student(*args):
        losses, distilled = student_pass(*args)
        groups.append(distilled[0])
        return losses, distilled

    model._two_stage_student = record_student
    assert model.distill_rois == 'all'
    every = losses_on(model, [3, 2])
    model.distill_rois = 'foreground'
    foreground = losses_on(model, [3, 2])
    (all_rois, fg_rois), (all_group, fg_group) = seen, groups
    keep = all_group.target < len(CLASSES)
    assert 0 < int(keep.sum()) < len(keep)  # both kinds were sampled
    assert torch.equal(fg_rois, all_rois[keep])
    assert torch.equal(fg_group.target, all_group.target[keep])
    assert torch.equal(fg_group.logits['main'],
                       all_group.logits['main'][keep])
    # the aux classifier runs on the kept rows only: a matrix product of
    # fewer rows may round differently in the last bits (the BLAS kernel
    # blocks by row count), so equal within float32 rounding
    torch.testing.assert_close(fg_group.logits['aux'],
                               all_group.logits['aux'][keep],
                               rtol=1e-5, atol=1e-6)
    # MMDetection's own losses do not change, the distillation's does
    for key, value in every.items():
        if 'binary_kl_norm' not in key:  # a tensor, or one per FPN level
            pairs = zip(value, foreground[key]) if isinstance(
                value, list) else [(value, foreground[key])]
            assert all(torch.equal(a.detach(), b.detach())
                       for a, b in pairs), key
    assert not torch.equal(every['loss_binary_kl_norm_aux'],
                           foreground['loss_binary_kl_norm_aux'])


def test_a_batch_without_foreground_adds_zero_distillation(tmp_path):
    """No object in the batch, so no foreground RoI: KD's mean over no RoI
    would be NaN; the loss is a zero that keeps the head in the graph, and
    no teacher agreement is logged for it."""
    student = small_faster_rcnn(dual=False)
    student.roi_head.type = 'DualStandardRoIHead'
    model = build(tmp_path, student, small_faster_rcnn(dual=False), KD_MAIN,
                  distill_rois='foreground')
    model.log_agreement = True
    losses = losses_on(model, [0, 0])
    assert float(losses['loss_kd_main'].detach()) == 0.0
    assert losses['loss_kd_main'].requires_grad
    assert 'teacher_agree' not in losses
    total, _ = model.parse_losses(losses)
    assert math.isfinite(float(total.detach()))
    # with objects, the same model distils
    with_objects = losses_on(model, [2, 1])
    assert float(with_objects['loss_kd_main'].detach()) > 0
    assert 0 <= float(with_objects['teacher_agree']) <= 1


def test_distill_rois_is_checked(tmp_path):
    with pytest.raises(ValueError, match=r"distill_rois must be one of "
                       r"\('all', 'foreground'\), got 'fg'"):
        build(tmp_path, small_faster_rcnn(), small_faster_rcnn(dual=False),
              BKL_AUX, distill_rois='fg')
    with pytest.raises(ValueError, match='one-stage student distils its '
                       'kept anchors'):
        build(tmp_path, small_retinanet(), small_retinanet(dual=False),
              BKL_AUX, distill_rois='foreground')
