"""DetDistiller on small Faster R-CNN / Cascade R-CNN / RetinaNet pairs
(CPU, random init)."""
import copy
import math

import pytest

pytest.importorskip('mmdet')
pytest.importorskip('mmcv.ops')

import torch  # noqa: E402
from mmdet.registry import MODELS  # noqa: E402
from mmdet.testing import demo_mm_inputs  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.optim import OptimWrapper  # noqa: E402

import dhkd_det  # noqa: E402,F401
from dhkd_det.checkpoint.export import (export_state,  # noqa: E402
                                        plain_student_state)
from dhkd_det.distillers import det_distiller  # noqa: E402
from dhkd_det.losses import BinaryKLNormLoss  # noqa: E402
from dhkd_det.models import aux_state_keys  # noqa: E402
from dense_utils import small_atss, small_fcos  # noqa: E402
from det_utils import (CLASSES, mmdet_scope, save_detector,  # noqa
                       small_cascade_rcnn, small_faster_rcnn,
                       small_retinanet)

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


KINDS = {
    'faster_rcnn': (small_faster_rcnn, 'student.roi_head.bbox_head.'
                    'fc_cls_aux', 'student.roi_head.bbox_head.fc_cls.'),
    'retinanet': (small_retinanet, 'student.bbox_head.retina_cls_aux',
                  'student.bbox_head.retina_cls.'),
    'atss': (small_atss, 'student.bbox_head.atss_cls_aux',
             'student.bbox_head.atss_cls.'),
    'fcos': (small_fcos, 'student.bbox_head.conv_cls_aux',
             'student.bbox_head.conv_cls.'),
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
    assert 'loss_binary_kl_norm_aux' in log
    assert not model.teacher.training
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), k
    changed = [k for k, v in model.student.state_dict().items()
               if not torch.equal(v, student_before[k])]
    assert set(changed) & aux_state_keys(model.student)
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
               if k.startswith('loss') and 'binary_kl_norm' not in k)
    distill = losses['loss_binary_kl_norm_aux']

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


def self_taught(tmp_path, student_cfg, plain_cfg):
    """A distiller whose teacher (``plain_cfg``, no aux head) holds the
    student's own weights, so its logits equal the student's main ones."""
    torch.manual_seed(0)
    probe = MODELS.build(copy.deepcopy(student_cfg))
    probe.init_weights()
    same = {k: v for k, v in probe.state_dict().items()
            if k not in aux_state_keys(probe)}
    model = distiller(tmp_path, student_cfg, plain_cfg, teacher_state=same)
    model.student.load_state_dict(probe.state_dict())
    return model


def recording_teacher(monkeypatch, model, seen):
    """Record (stage, rois, logits) of every teacher box-head call, as the
    distiller makes it (``stage_cls_scores`` on the teacher's RoI head)."""
    t_forward = det_distiller.stage_cls_scores

    def record_teacher(roi_head, stage, x, rois):
        assert roi_head is model.teacher.roi_head
        logits = t_forward(roi_head, stage, x, rois)
        seen.append((stage, rois, logits))
        return logits

    monkeypatch.setattr(det_distiller, 'stage_cls_scores', record_teacher)


def recording_both(monkeypatch, model):
    """A dict that will hold the groups of the student's pass
    (``'student'``) and every teacher box-head call (``'teacher'``)."""
    seen = dict(teacher=[])
    student_pass = model._two_stage_student

    def record_student(*args):
        losses, seen['student'] = student_pass(*args)
        return losses, seen['student']

    model._two_stage_student = record_student
    recording_teacher(monkeypatch, model, seen['teacher'])
    return seen


def test_teacher_runs_on_the_students_sampled_rois(tmp_path, monkeypatch):
    """Teacher = the student's own weights (plain head): its logits on the
    sampled RoIs must equal the student's main logits one to one."""
    model = self_taught(tmp_path, small_faster_rcnn(),
                        small_faster_rcnn(dual=False))
    seen = recording_both(monkeypatch, model)
    model.train()
    model.log_agreement = True
    losses = losses_of(model)
    (distilled, ) = seen['student']
    ((stage, rois, t_logits), ) = seen['teacher']
    assert stage == 0 and torch.equal(rois, distilled.where[1])
    assert rois.shape[0] == 2 * 64  # the sampler's RoIs, no more
    assert torch.allclose(t_logits, distilled.logits['main'], atol=1e-5)
    assert float(losses['teacher_agree']) == 1.0


# student config builders -> (dual student, plain teacher); the
# four-conv student learns from a Shared2FC teacher (teacher and student
# box heads need not match, only their C+1 logits)
STUDENTS = {
    'faster_rcnn': (small_faster_rcnn, small_faster_rcnn),
    'faster_rcnn_4conv1fc': (lambda dual=True: small_faster_rcnn(
        dual, bbox_head='Shared4Conv1FCBBoxHead'), small_faster_rcnn),
    'cascade_rcnn': (small_cascade_rcnn, small_cascade_rcnn),
    'retinanet': (small_retinanet, small_retinanet),
    'atss': (small_atss, small_atss),
    'fcos': (small_fcos, small_fcos),
}


@pytest.mark.parametrize('kind', list(STUDENTS))
def test_student_losses_are_mmdetections(tmp_path, kind):
    """With the distillation losses taken out of the dict, a distillation
    step gives exactly ``student.loss`` on the same batch and RNG state
    (sampling is random): the student's losses are MMDetection's own code.
    The cascade student has nonlinear aux heads, whose dropout must not
    shift the later stages' random sampling."""
    build, build_teacher = STUDENTS[kind]
    student = build()
    if kind == 'cascade_rcnn':
        for head in student.roi_head.bbox_head:
            head.aux_head = 'nonlinear'
        for stage_cfg in student.train_cfg.rcnn[1:]:
            # fewer RoIs than the previous stage gives: sampled at random
            stage_cfg.sampler.num = 32
    model = distiller(tmp_path, student, build_teacher(dual=False))
    model.train()
    model.log_agreement = True
    data = model.data_preprocessor(data_batch(), True)
    torch.manual_seed(7)
    losses = model.loss(data['inputs'], copy.deepcopy(data['data_samples']))
    torch.manual_seed(7)
    want = model.student.loss(data['inputs'],
                              copy.deepcopy(data['data_samples']))
    distill_keys = {k for k in losses if 'binary_kl_norm' in k}
    assert distill_keys and all(float(losses[k].detach()) > 0
                                for k in distill_keys)
    got = {k: v for k, v in losses.items()
           if k not in distill_keys | {'teacher_agree'}}
    assert set(got) == set(want)
    for key, value in want.items():
        values = value if isinstance(value, list) else [value]
        got_values = got[key] if isinstance(got[key], list) else [got[key]]
        assert len(got_values) == len(values), key
        for g, w in zip(got_values, values):
            assert torch.equal(g, w), key


def test_cascade_distils_every_stage_on_its_own_rois(tmp_path, monkeypatch):
    """Teacher = the student's weights (plain Cascade R-CNN): the teacher's
    stage-i head runs on the student's stage-i RoIs (logits equal the
    student's stage-i main logits); stage i's aux logits line up with those
    RoIs, its loss is logged as s{i}.loss_binary_kl_norm_aux, weighted like the
    stage's own losses, and reaches only stage i's aux head."""
    model = self_taught(tmp_path, small_cascade_rcnn(),
                        small_cascade_rcnn(dual=False))
    seen = recording_both(monkeypatch, model)
    model.train()
    model.log_agreement = True
    split = model(**model.data_preprocessor(data_batch(), True),
                  mode='loss_split')
    losses = split.merged()

    stages, teacher = seen['student'], seen['teacher']
    weights = model.student.roi_head.stage_loss_weights
    assert [t[0] for t in teacher] == [0, 1, 2]
    assert 'loss_binary_kl_norm_aux' not in losses
    assert float(losses['teacher_agree']) == 1.0
    bkl = BinaryKLNormLoss(temperature=2.0)
    for i, (part, (_, t_rois, t_logits)) in enumerate(zip(stages, teacher)):
        stage, rois = part.where
        assert stage == i and torch.equal(t_rois, rois)
        assert part.loss_prefix == f's{i}.' and part.loss_weight == weights[i]
        assert torch.allclose(t_logits, part.logits['main'], atol=1e-5)
        assert part.logits['aux'].shape == (rois.shape[0], len(CLASSES) + 1)
        assert torch.allclose(losses[f's{i}.loss_binary_kl_norm_aux'],
                              weights[i] * bkl(part.logits['aux'], t_logits))
    assert not torch.equal(teacher[0][1], teacher[1][1])

    heads = model.student.roi_head.bbox_head
    for i in range(3):
        aux_params = [list(heads[j].fc_cls_aux.parameters()) for j in range(3)]
        grads = torch.autograd.grad(
            losses[f's{i}.loss_binary_kl_norm_aux'],
            [p for params in aux_params for p in params] +
            [heads[i].fc_cls.weight], retain_graph=True, allow_unused=True)
        per_head = [grads[2 * j:2 * j + 2] for j in range(3)]
        for j, (g_weight, g_bias) in enumerate(per_head):
            reached = g_weight is not None and g_weight.abs().sum() > 0
            assert reached == (i == j), (i, j)
        assert grads[-1] is None or not grads[-1].any()  # not the main head
    # gradient alignment sees every stage's loss as distillation
    assert set(split.distill) == {f's{i}.loss_binary_kl_norm_aux'
                                  for i in range(3)} | {'teacher_agree'}
    task, distill = model.loss_totals(split)
    assert torch.allclose(distill,
                          sum(losses[f's{i}.loss_binary_kl_norm_aux']
                              for i in range(3)))
    assert torch.allclose(task + distill, model.parse_losses(losses)[0])


def predictions(*models):
    """Each model's predictions on the same batch, in eval mode."""
    outputs = []
    for model in models:
        model.eval()
        with torch.no_grad():
            outputs.append(model(**model.data_preprocessor(data_batch(),
                                                           False),
                                 mode='predict'))
    return outputs


@pytest.mark.parametrize('kind', ['cascade_rcnn', 'faster_rcnn_4conv1fc',
                                  'atss', 'fcos'])
def test_export_tool_gives_plain_mmdet_student(tmp_path, kind):
    """tools/export_student.py's state dict (the model rebuilt from the
    checkpoint's config says what is auxiliary) loads strictly into the
    plain MMDetection detector (CascadeRoIHead / Shared4Conv1FCBBoxHead),
    which predicts exactly as the distiller's student."""
    build, build_teacher = STUDENTS[kind]
    model = distiller(tmp_path, build(), build_teacher(dual=False))
    cfg = Config(dict(default_scope='mmdet', model=dict(
        type='DetDistiller', student=build(),
        teacher=build_teacher(dual=False), distill_losses=BKL)))
    state = export_state(
        dict(state_dict=model.state_dict(), meta=dict(cfg=cfg.pretty_text)))
    plain = MODELS.build(build(dual=False))
    plain.load_state_dict(state, strict=True)
    got, want = predictions(model, plain)
    for g, w in zip(got, want):
        assert len(g.pred_instances) > 0
        for key in ('bboxes', 'scores', 'labels'):
            assert torch.equal(g.pred_instances[key], w.pred_instances[key])


def test_predict_is_the_students(tmp_path):
    model = distiller(tmp_path, small_faster_rcnn(),
                      small_faster_rcnn(dual=False))
    plain = MODELS.build(small_faster_rcnn(dual=False))
    plain.load_state_dict(plain_student_state(model.state_dict(), model))
    got, want = predictions(model, plain)
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
    assert float(losses['loss_binary_kl_norm_aux'].detach()) == 0.0
    assert losses['loss_binary_kl_norm_aux'].requires_grad


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
        assert float(losses['loss_binary_kl_norm_aux']) > 0


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
    with pytest.raises(ValueError, match='does not fit model.teacher '
                       r'\(FasterRCNN\): .*Point model.teacher_ckpt at'):
        model.load_teacher()


@pytest.mark.parametrize('student,teacher,losses,match', [
    ('plain', 'plain', BKL, 'needs a student with an aux'),
    ('cascade', 'plain', BKL, 'box-head stage'),
    ('dual', 'cascade', BKL, 'box-head stage'),
    ('half_cascade', 'cascade', BKL, r'stages \[1\] have no aux'),
    ('plain_cascade', 'cascade', dict(main=dict(type='KDLoss')),
     'sampled RoIs'),
    ('dual', 'plain', {}, 'would never be trained'),
    ('dual', 'retina', BKL, 'two-stage detector but the teacher'),
    ('dual', 'caffe', BKL, 'normalise images differently'),
    ('dual', 'plain', dict(head=BKL['aux']), "heads are"),
])
def test_bad_configs(student, teacher, losses, match):
    half_cascade = small_cascade_rcnn()
    half_cascade.roi_head.bbox_head[1].type = 'Shared2FCBBoxHead'
    students = dict(plain=small_faster_rcnn(dual=False),
                    dual=small_faster_rcnn(), cascade=small_cascade_rcnn(),
                    half_cascade=half_cascade,
                    plain_cascade=small_cascade_rcnn(dual=False))
    caffe = small_faster_rcnn(dual=False)
    caffe.data_preprocessor.update(mean=[103.53, 116.28, 123.675],
                                   std=[1.0, 1.0, 1.0], bgr_to_rgb=False)
    teachers = dict(plain=small_faster_rcnn(dual=False),
                    retina=small_retinanet(dual=False), caffe=caffe,
                    cascade=small_cascade_rcnn(dual=False))
    with pytest.raises((ValueError, TypeError, KeyError), match=match):
        MODELS.build(dict(type='DetDistiller', student=students[student],
                          teacher=teachers[teacher], distill_losses=losses))


def test_retinanet_teacher_on_the_same_anchors(tmp_path):
    """Teacher = the student's weights: per-anchor logits on the kept anchors
    equal the student's main logits; the kept anchors are the non-ignored
    ones."""
    model = self_taught(tmp_path, small_retinanet(),
                        small_retinanet(dual=False))
    model.train()
    data = model.data_preprocessor(data_batch(), True)
    losses, (distilled, ) = model._one_stage_student(**data)
    logits, keep = distilled.logits, distilled.where
    (t_logits, ) = model.teacher_logits(data['inputs'], [keep])
    assert torch.equal(keep.index, keep.mask.nonzero().squeeze(1))
    assert logits['aux'].shape == t_logits.shape == (int(keep.mask.sum()),
                                                     len(CLASSES))
    assert torch.allclose(t_logits, logits['main'], atol=1e-5)
    assert int(keep.mask.sum()) < keep.mask.numel()  # some are ignored
    with pytest.raises(ValueError, match='DKDLoss needs softmax'):
        MODELS.build(dict(type='DetDistiller', student=small_retinanet(
            dual=False), teacher=small_retinanet(dual=False),
            distill_losses=dict(main=dict(type='DKDLoss'))))


def test_cuda_graph_is_refused_with_the_reason():
    """model.cuda_graph=True (tools/train.py --cuda-graph) on a detector:
    its proposals change in number, so the step cannot be captured."""
    with pytest.raises(ValueError, match='DetDistiller cannot be captured'):
        MODELS.build(dict(type='DetDistiller', student=small_faster_rcnn(),
                          cuda_graph=True))


# ----- dense heads beyond RetinaNet ---------------------------------------
@pytest.mark.parametrize('kind', ['atss', 'fcos'])
def test_dense_teacher_on_the_same_priors(tmp_path, kind):
    """Teacher = the student's weights (plain ATSS / FCOS head): its
    per-prior logits on the kept priors equal the student's main logits;
    the kept priors are those the head names (``distilled_priors``), and
    the distillation loss reaches the aux classifier."""
    build = KINDS[kind][0]
    model = self_taught(tmp_path, build(), build(dual=False))
    model.train()
    data = model.data_preprocessor(data_batch(), True)
    losses, (distilled, ) = model._one_stage_student(**data)
    logits, keep = distilled.logits, distilled.where
    (t_logits, ) = model.teacher_logits(data['inputs'], [keep])
    assert torch.equal(keep.index, keep.mask.nonzero().squeeze(1))
    assert logits['aux'].shape == t_logits.shape == (int(keep.mask.sum()),
                                                     len(CLASSES))
    torch.testing.assert_close(t_logits, logits['main'], rtol=1e-5,
                               atol=1e-5)
    head = model.student.bbox_head
    assert model.main_classifiers() == [head.main_classifier()]
    if kind == 'fcos':  # every point is classified by FCOS's focal loss
        assert bool(keep.mask.all())


def test_dense_teacher_on_other_priors_is_refused(tmp_path):
    """Priors that do not line up (ATSS's one anchor a location vs
    RetinaNet's nine) are refused at the first step, naming the fix."""
    model = distiller(tmp_path, small_atss(), small_retinanet(dual=False))
    model.train()
    with pytest.raises(ValueError, match='same anchor_generator'):
        losses_of(model)


def test_plain_dense_student_is_refused_by_name():
    """A one-stage student whose head does not implement DistillDenseHead
    (MMDetection's plain head) cannot be distilled: the error names the
    head and the dual head to use; without distillation it builds."""
    with pytest.raises(TypeError, match=r"FCOSHead does not implement "
                       r"DistillDenseHead.*'DualFCOSHead'"):
        MODELS.build(dict(type='DetDistiller', student=small_fcos(
            dual=False), teacher=small_fcos(dual=False),
            distill_losses=dict(main=dict(type='KDLoss'))))
    alone = MODELS.build(dict(type='DetDistiller',
                              student=small_fcos(dual=False)))
    assert not alone.two_stage and not alone.has_aux


@pytest.mark.parametrize('kind', ['retinanet', 'atss', 'fcos'])
def test_one_stage_main_head_kd_baseline(tmp_path, kind):
    """``aux_classifier=False``: the dual dense head is MMDetection's head
    exactly (its state loads strictly into the plain detector) and still
    names its priors, so KD on the main classifier trains it; the main
    classifier gets the distillation gradient."""
    build, _, main_name = KINDS[kind]
    student = build(bbox_head=dict(aux_classifier=False))
    model = distiller(tmp_path, student, build(dual=False),
                      distill_losses=dict(main=dict(type='KDLoss',
                                                    temperature=1.0)))
    assert not model.has_aux and not aux_state_keys(model.student)
    MODELS.build(build(dual=False)).load_state_dict(
        model.student.state_dict(), strict=True)
    model.train()
    losses = losses_of(model)
    distill = losses['loss_kd_main']
    assert math.isfinite(float(distill.detach())) and float(distill) > 0
    params = dict(model.named_parameters())
    names = [n for n in params if n.startswith(main_name)]
    grads = torch.autograd.grad(distill, [params[n] for n in names])
    assert any(g.abs().sum() > 0 for g in grads)
