"""DetDistiller on small Faster R-CNN / RetinaNet pairs (CPU, random init)."""
import copy
import math

import pytest

pytest.importorskip('mmdet')
pytest.importorskip('mmcv.ops')

import torch  # noqa: E402
from mmdet.registry import MODELS  # noqa: E402
from mmdet.testing import demo_mm_inputs  # noqa: E402
from mmengine.optim import OptimWrapper  # noqa: E402

import dhkd_det  # noqa: E402,F401
from det_utils import (CLASSES, mmdet_scope, save_detector,  # noqa
                       small_faster_rcnn, small_retinanet)

BKL = dict(aux=dict(type='BinaryKLNormLoss', temperature=2.0))


def distiller(tmp_path, student, teacher, seed=1, teacher_state=None,
              **kwargs):
    ckpt = str(tmp_path / 'teacher.pth')
    save_detector(ckpt, teacher, seed=seed, state=teacher_state)
    torch.manual_seed(0)
    model = MODELS.build(dict(type='DetDistiller', student=student,
                              teacher=teacher, teacher_ckpt=ckpt,
                              **dict(dict(distill_losses=BKL), **kwargs)))
    model.init_weights()
    return model


def data_batch(n=2, shape=(3, 128, 160), num_items=None, seed=0):
    torch.manual_seed(seed)
    return demo_mm_inputs(batch_size=n, image_shapes=shape,
                          num_items=num_items or [3] * n,
                          num_classes=len(CLASSES))


def losses_of(model, data=None):
    data = model.data_preprocessor(data or data_batch(), True)
    return model(**data, mode='loss')


def plain_student_state(model):
    return {k[len('student.'):]: v for k, v in model.state_dict().items()
            if k.startswith('student.') and 'aux' not in k}


KINDS = {
    'faster_rcnn': (small_faster_rcnn, 'student.roi_head.bbox_head.'
                    'fc_cls_aux', 'student.roi_head.bbox_head.fc_cls.'),
    'retinanet': (small_retinanet, 'student.bbox_head.retina_cls_aux',
                  'student.bbox_head.retina_cls.'),
}


@pytest.mark.parametrize('kind', list(KINDS))
def test_train_steps_keep_teacher_and_train_student(tmp_path, kind):
    build = KINDS[kind][0]
    model = distiller(tmp_path, build(), build(dual=False))
    assert 'teacher' not in dict(model.named_children())
    assert not any(k.startswith('teacher') for k in model.state_dict())
    model.load_teacher()
    teacher_before = copy.deepcopy(model.teacher.state_dict())
    student_before = copy.deepcopy(model.student.state_dict())
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    model.train()
    for i in range(2):
        log = model.train_step(data_batch(seed=i), optim)
        assert all(math.isfinite(float(v.detach())) for v in log.values())
    assert 'loss_bkl_aux' in log
    assert not model.teacher.training
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), k
    changed = [k for k, v in model.student.state_dict().items()
               if not torch.equal(v, student_before[k])]
    assert any('aux' in k for k in changed)
    assert any('backbone' in k for k in changed)


@pytest.mark.parametrize('kind', list(KINDS))
def test_aux_gets_gradient_only_from_distillation(tmp_path, kind):
    build, aux_name, main_name = KINDS[kind]
    model = distiller(tmp_path, build(), build(dual=False))
    model.train()
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    losses = losses_of(model)
    task = sum(v if torch.is_tensor(v) else sum(v)
               for k, v in losses.items()
               if k.startswith('loss') and 'bkl' not in k)
    distill = losses['loss_bkl_aux']

    def grads(loss):
        names = list(params)
        gs = torch.autograd.grad(loss, [params[n] for n in names],
                                 retain_graph=True, allow_unused=True)
        return {n: g for n, g in zip(names, gs)
                if g is not None and g.abs().sum() > 0}

    g_task, g_distill = grads(task), grads(distill)
    assert not any(aux_name in n for n in g_task)
    assert any(aux_name in n for n in g_distill)
    assert not any(n.startswith(main_name) for n in g_distill)
    assert any(n.startswith(main_name) for n in g_task)
    # the shared trunk gets both
    assert any('backbone' in n for n in g_task)
    assert any('backbone' in n for n in g_distill)


def test_teacher_runs_on_the_students_sampled_rois(tmp_path):
    """Teacher = the student's own weights (plain head): its logits on the
    sampled RoIs must equal the student's main logits one to one."""
    student_cfg = small_faster_rcnn()
    torch.manual_seed(0)
    probe = MODELS.build(copy.deepcopy(student_cfg))
    probe.init_weights()
    same = {k: v for k, v in probe.state_dict().items() if 'aux' not in k}
    model = distiller(tmp_path, student_cfg, small_faster_rcnn(dual=False),
                      teacher_state=same)
    model.student.load_state_dict(probe.state_dict())
    seen = {}
    roi_head = model.student.roi_head
    t_roi_head = model.teacher.roi_head
    bbox_loss, t_forward = roi_head.bbox_loss, t_roi_head._bbox_forward

    def record_student(x, sampling_results):
        seen['student'] = bbox_loss(x, sampling_results)
        return seen['student']

    def record_teacher(x, rois):
        seen['rois'] = rois
        seen['teacher'] = t_forward(x, rois)
        return seen['teacher']

    roi_head.bbox_loss = record_student
    t_roi_head._bbox_forward = record_teacher
    model.train()
    model.log_agreement = True
    losses = losses_of(model)
    assert torch.equal(seen['rois'], seen['student']['rois'])
    assert seen['rois'].shape[0] == 2 * 64  # the sampler's RoIs, no more
    assert torch.allclose(seen['teacher']['cls_score'],
                          seen['student']['cls_score'], atol=1e-5)
    assert float(losses['teacher_agree']) == 1.0


def test_predict_is_the_students(tmp_path):
    model = distiller(tmp_path, small_faster_rcnn(),
                      small_faster_rcnn(dual=False))
    plain = MODELS.build(small_faster_rcnn(dual=False))
    plain.load_state_dict(plain_student_state(model))
    model.eval(), plain.eval()
    with torch.no_grad():
        got = model(**model.data_preprocessor(data_batch(), False),
                    mode='predict')
        want = plain(**plain.data_preprocessor(data_batch(), False),
                     mode='predict')
    assert not model.teacher_loaded  # testing needs no teacher checkpoint
    for g, w in zip(got, want):
        for key in ('bboxes', 'scores', 'labels'):
            assert torch.equal(g.pred_instances[key], w.pred_instances[key])


def test_scale_zero_skips_the_teacher(tmp_path):
    model = distiller(tmp_path, small_faster_rcnn(),
                      small_faster_rcnn(dual=False))
    model.teacher_ckpt = str(tmp_path / 'missing.pth')  # never read
    model.distill_scale = 0.0
    model.train()
    losses = losses_of(model)
    assert float(losses['loss_bkl_aux'].detach()) == 0.0
    assert losses['loss_bkl_aux'].requires_grad


def test_main_head_kd_and_dkd_baselines(tmp_path):
    student = small_faster_rcnn()
    student.roi_head.bbox_head.type = 'Shared2FCBBoxHead'
    for loss in (dict(type='KDLoss', temperature=1.0),
                 dict(type='DKDLoss', temperature=1.0, beta=0.25)):
        model = distiller(tmp_path, copy.deepcopy(student),
                          small_faster_rcnn(dual=False),
                          distill_losses=dict(main=loss))
        model.train()
        losses = losses_of(model)
        key = f"loss_{'kd' if loss['type'] == 'KDLoss' else 'dkd'}_main"
        assert math.isfinite(float(losses[key]))


def test_empty_ground_truth_images(tmp_path):
    for build in (small_faster_rcnn, small_retinanet):
        model = distiller(tmp_path, build(), build(dual=False))
        model.train()
        losses = losses_of(model, data_batch(num_items=[0, 2]))
        total, _ = model.parse_losses(losses)
        assert math.isfinite(float(total))
        assert float(losses['loss_bkl_aux']) > 0


def test_teacher_from_an_mmdet_config_name():
    student = small_faster_rcnn(roi_head=dict(bbox_head=dict(num_classes=80)))
    model = MODELS.build(dict(
        type='DetDistiller', student=student,
        teacher='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py',
        distill_losses=BKL))
    assert model.teacher.backbone.depth == 101
    assert torch.equal(model.data_preprocessor.mean,
                       model.teacher.data_preprocessor.mean)


# ----- errors a user can cause -------------------------------------------
def test_teacher_with_other_class_count(tmp_path):
    teacher = small_faster_rcnn(dual=False)
    teacher.roi_head.bbox_head.num_classes = 5
    with pytest.raises(ValueError, match='5 classes but the student 3'):
        MODELS.build(dict(type='DetDistiller', student=small_faster_rcnn(),
                          teacher=teacher, distill_losses=BKL))


def test_missing_teacher_checkpoint(tmp_path):
    model = MODELS.build(dict(type='DetDistiller',
                              student=small_faster_rcnn(),
                              teacher=small_faster_rcnn(dual=False),
                              teacher_ckpt=str(tmp_path / 'nope.pth'),
                              distill_losses=BKL))
    model.train()
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        losses_of(model)


def test_teacher_checkpoint_of_another_architecture(tmp_path):
    ckpt = str(tmp_path / 'retina.pth')
    save_detector(ckpt, small_retinanet(dual=False))
    model = MODELS.build(dict(type='DetDistiller',
                              student=small_faster_rcnn(),
                              teacher=small_faster_rcnn(dual=False),
                              teacher_ckpt=ckpt, distill_losses=BKL))
    with pytest.raises(ValueError, match='does not match the architecture'):
        model.load_teacher()


@pytest.mark.parametrize('student,teacher,losses,match', [
    ('plain', 'plain', BKL, 'needs a student with an aux'),
    ('dual', 'plain', {}, 'would never be trained'),
    ('dual', 'retina', BKL, 'two-stage detector but the teacher'),
    ('dual', 'caffe', BKL, 'normalise images differently'),
    ('dual', 'plain', dict(head=BKL['aux']), "heads are"),
])
def test_bad_configs(student, teacher, losses, match):
    students = dict(plain=small_faster_rcnn(dual=False),
                    dual=small_faster_rcnn())
    caffe = small_faster_rcnn(dual=False)
    caffe.data_preprocessor.update(mean=[103.53, 116.28, 123.675],
                                   std=[1.0, 1.0, 1.0], bgr_to_rgb=False)
    teachers = dict(plain=small_faster_rcnn(dual=False),
                    retina=small_retinanet(dual=False), caffe=caffe)
    with pytest.raises((ValueError, TypeError, KeyError), match=match):
        MODELS.build(dict(type='DetDistiller', student=students[student],
                          teacher=teachers[teacher], distill_losses=losses))


def test_retinanet_teacher_on_the_same_anchors(tmp_path):
    """Teacher = the student's weights: per-anchor logits on the kept anchors
    equal the student's main logits; the kept anchors are the non-ignored
    ones."""
    student_cfg = small_retinanet()
    torch.manual_seed(0)
    probe = MODELS.build(copy.deepcopy(student_cfg))
    probe.init_weights()
    same = {k: v for k, v in probe.state_dict().items() if 'aux' not in k}
    model = distiller(tmp_path, student_cfg, small_retinanet(dual=False),
                      teacher_state=same)
    model.student.load_state_dict(probe.state_dict())
    model.train()
    data = model.data_preprocessor(data_batch(), True)
    losses, logits, _, keep = model._one_stage_student(**data)
    t_logits = model.teacher_logits(data['inputs'], keep)
    assert torch.equal(keep.index, keep.mask.nonzero().squeeze(1))
    assert logits['aux'].shape == t_logits.shape == (int(keep.mask.sum()),
                                                     len(CLASSES))
    assert torch.allclose(t_logits, logits['main'], atol=1e-5)
    assert int(keep.mask.sum()) < keep.mask.numel()  # some are ignored
    with pytest.raises(ValueError, match='DKDLoss needs softmax'):
        MODELS.build(dict(type='DetDistiller', student=small_retinanet(
            dual=False), teacher=small_retinanet(dual=False),
            distill_losses=dict(main=dict(type='DKDLoss'))))
