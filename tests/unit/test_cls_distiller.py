"""The classification distiller: frozen teacher, which loss reaches which
head, checkpoint layouts and the errors a user can cause."""

import pytest
import torch
import torch.distributed as dist
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapper
from mmengine.registry import MODELS

import dhkd_det  # noqa: F401
from cls_utils import save_teacher
from dhkd_det.engine import (DHKDHook, DistillerDataParallel,
                             DistillScheduleHook)
from dhkd_det.optim import GradAlignOptimWrapper
from dhkd_det.testing import small_cls_distiller_cfg


def build(teacher_ckpt=None, aux='nonlinear', distill=None, teacher_cls=10,
          student_cls=10, teacher_arch='resnet8', **kw):
    distill = distill if distill is not None else dict(
        aux=dict(type='BinaryKLNormLoss', temperature=2.0))
    return MODELS.build(dict(
        type='ClsDistiller',
        student=dict(type='DualHeadClassifier',
                     network=dict(type='resnet8', num_classes=student_cls),
                     aux_head=aux),
        teacher=dict(type=teacher_arch, num_classes=teacher_cls),
        teacher_ckpt=teacher_ckpt,
        distill_losses=distill, **kw))


def batch(n=8, c=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(inputs=torch.randint(0, 256, (n, 3, 32, 32), generator=g,
                                     dtype=torch.uint8),
                data_samples=torch.randint(0, c, (n, ), generator=g))


@pytest.fixture
def teacher_ckpt(tmp_path):
    path = tmp_path / 'teacher.pth'
    save_teacher(path)
    return str(path)


def test_teacher_frozen_and_bit_identical(teacher_ckpt):
    model = build(teacher_ckpt)
    model.load_teacher()
    before = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1,
                                           momentum=0.9))
    model.train()
    for i in range(3):
        model.train_step(batch(seed=i), wrapper)
    assert not model.teacher.training
    assert all(not m.training for m in model.teacher.modules())
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, before[k]), k  # BN stats included
    teacher_params = {id(p) for p in model.teacher.parameters()}
    assert not teacher_params & {id(p) for p in model.parameters()}
    assert not any(k.startswith('teacher') for k in model.state_dict())


def test_heads_get_gradient_only_from_their_loss(teacher_ckpt):
    model = build(teacher_ckpt)
    data = model.data_preprocessor(batch(), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_ce_main', 'loss_binary_kl_norm_aux'}
    aux = list(model.student.aux_head.parameters())
    main = list(model.student.network.fc.parameters())
    backbone = model.student.network.conv1.weight
    g_ce = torch.autograd.grad(losses['loss_ce_main'], aux + main +
                               [backbone], retain_graph=True,
                               allow_unused=True)
    g_kd = torch.autograd.grad(losses['loss_binary_kl_norm_aux'], aux + main +
                               [backbone], allow_unused=True)
    n = len(aux)
    assert all(g is None for g in g_ce[:n])           # CE never reaches aux
    assert all(g is not None and g.abs().sum() > 0 for g in g_ce[n:])
    assert all(g is not None and g.abs().sum() > 0 for g in g_kd[:n])
    assert all(g is None for g in g_kd[n:n + len(main)])  # nor KD the fc
    assert g_kd[-1].abs().sum() > 0                   # backbone gets both


def test_kd_baseline_and_dual_kd_keys(teacher_ckpt):
    kd = build(teacher_ckpt, aux=None,
               distill=dict(main=dict(type='KDLoss', temperature=4.0)))
    data = kd.data_preprocessor(batch(), True)
    assert set(kd(**data, mode='loss')) == {'loss_ce_main', 'loss_kd_main'}
    dkd = build(teacher_ckpt, aux=None, distill=dict(main=dict(
        type='DKDLoss')))
    assert set(dkd(**data, mode='loss')) == {'loss_ce_main', 'loss_dkd_main'}
    with pytest.raises(ValueError, match='aux_head'):
        build(teacher_ckpt, aux=None)  # BinaryKLNorm on a missing aux head


def test_train_step_hands_gradient_alignment_the_split(teacher_ckpt):
    """The distiller keeps the task and distillation losses apart as it
    makes them; their totals add up to the total MMEngine steps on; with
    gradient alignment the step is update_params_split on them."""
    model = build(teacher_ckpt)
    model.log_agreement = True
    data = model.data_preprocessor(batch(), True)
    split = model(**data, mode='loss_split')
    assert set(split.task) == {'loss_ce_main'}
    assert set(split.distill) == {'loss_binary_kl_norm_aux', 'teacher_agree'}
    task, distill = model.loss_totals(split)
    assert torch.equal(task, split.task['loss_ce_main'])
    assert torch.equal(distill, split.distill['loss_binary_kl_norm_aux'])
    total, _ = model.parse_losses(split.merged())
    assert torch.allclose(task + distill, total)
    calls = []
    wrapper = GradAlignOptimWrapper(torch.optim.SGD(model.parameters(),
                                                    lr=0.1))
    wrapper.update_params_split = lambda *parts: calls.append(parts)
    model.train_step(batch(), wrapper)
    (parts, ) = calls
    assert [p.requires_grad for p in parts] == [True, True]


def test_ddp_wrapper_runs_the_distillers_step(teacher_ckpt, tmp_path):
    """Under DDP (a one-process gloo group) DistillerDataParallel runs the
    distiller's own step: gradient alignment gets the split and updates as
    without DDP.  MMEngine's DDP wrapper hands it the total only, which it
    refuses, naming the fix."""
    models = []
    for _ in range(3):
        torch.manual_seed(0)
        models.append(build(teacher_ckpt))
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store',
                            rank=0, world_size=1)
    try:
        steppers = [models[0],
                    DistillerDataParallel(module=models[1], device_ids=[0]),
                    MMDistributedDataParallel(module=models[2])]
        for stepper, model in zip(steppers[:2], models):
            torch.manual_seed(1)  # the aux head's dropout
            stepper.train_step(batch(), GradAlignOptimWrapper(
                torch.optim.SGD(model.parameters(), lr=0.1)))
        with pytest.raises(TypeError, match='DistillerDataParallel'):
            steppers[2].train_step(batch(), GradAlignOptimWrapper(
                torch.optim.SGD(models[2].parameters(), lr=0.1)))
    finally:
        dist.destroy_process_group()
    for (name, p0), p1, p2 in zip(models[0].named_parameters(),
                                  models[1].parameters(),
                                  models[2].parameters()):
        assert torch.allclose(p0, p1, atol=1e-6), name
    # the refused step left the initial weights, which the others moved
    assert any(not torch.equal(p0, p2) for p0, p2 in
               zip(models[0].parameters(), models[2].parameters()))


def test_distill_scale_and_stop(teacher_ckpt):
    model = build(teacher_ckpt)
    data = model.data_preprocessor(batch(), True)
    torch.manual_seed(0)
    full = model(**data, mode='loss')['loss_binary_kl_norm_aux']
    model.distill_scale = 0.25
    torch.manual_seed(0)
    quarter = model(**data, mode='loss')['loss_binary_kl_norm_aux']
    assert quarter.item() == pytest.approx(0.25 * full.item(), rel=1e-5)
    model.distill_scale = 0.0
    assert model(**data, mode='loss')['loss_binary_kl_norm_aux'].item() == 0.0


def test_hook_schedule():
    dkd = DistillScheduleHook(warmup_epochs=20)
    assert dkd.scale(0, 0) == pytest.approx(1 / 20)
    assert dkd.scale(19, 999) == 1.0
    stop = DistillScheduleHook(stop_epoch=50)
    assert stop.scale(49, 0) == 1.0 and stop.scale(50, 0) == 0.0
    iters = DistillScheduleHook(warmup_iters=100, stop_iter=1000)
    assert iters.scale(0, 49) == pytest.approx(0.5)
    assert iters.scale(3, 1000) == 0.0


def test_dhkd_hook_names_where_its_old_arguments_went():
    with pytest.raises(TypeError, match=r'warmup_epochs \(now '
                       r'DistillScheduleHook\).*DistillScheduleHook'):
        DHKDHook(warmup_epochs=20)
    with pytest.raises(TypeError, match='check_annotations .now CocoAudit'):
        DHKDHook(check_annotations=False)
    with pytest.raises(TypeError, match="unexpected argument 'warmup'"):
        DHKDHook(warmup=3)


def test_predict_reports_heads(teacher_ckpt):
    model = build(teacher_ckpt, eval_aux=True, eval_teacher=True)
    model.eval()
    data = model.data_preprocessor(batch(4), False)
    out = model(**data, mode='predict')
    assert len(out) == 4
    assert set(out[0]['topk']) == {'main', 'aux', 'teacher'}
    assert out[0]['topk']['main'].shape == (5, )


def test_checkpoint_layouts_load(tmp_path):
    for layout in ('crd', 'ours'):
        path = tmp_path / f'{layout}.pth'
        net = save_teacher(path, layout=layout, seed=3)
        model = build(str(path))
        model.load_teacher()
        x = torch.randn(2, 3, 32, 32)
        net.eval()
        assert torch.equal(model.teacher(x), net(x))


def test_plain_classifier_checkpoints_load_as_teachers(tmp_path):
    """The plain ImageClassifier (the base ClsDistiller extends) keeps the
    parameter names teachers have always been saved under,
    student.network.*: its checkpoint, and a DDP-saved network (module.*),
    load as the teacher."""
    torch.manual_seed(3)
    clf = MODELS.build(dict(
        type='ImageClassifier',
        student=dict(type='DualHeadClassifier',
                     network=dict(type='resnet8', num_classes=10),
                     aux_head=None)))
    network = clf.student.network.state_dict()
    assert set(clf.state_dict()) == {f'student.network.{k}' for k in network}
    torch.save({'state_dict': clf.state_dict(), 'meta': {}},
               tmp_path / 'clf.pth')
    torch.save({f'module.{k}': v for k, v in network.items()},
               tmp_path / 'ddp.pth')
    x = torch.randn(2, 3, 32, 32)
    clf.eval()
    for name in ('clf.pth', 'ddp.pth'):
        model = build(str(tmp_path / name))
        model.load_teacher()
        assert torch.equal(model.teacher(x), clf.student.network(x)), name


def test_distiller_saves_the_students_names(teacher_ckpt):
    """A distiller is the classifier plus a teacher: its checkpoint holds
    the student under the names it always had, and nothing else."""
    model = build(teacher_ckpt)
    keys = set(model.state_dict())
    assert keys == {f'student.{k}' for k in model.student.state_dict()}
    assert {k.split('.')[1] for k in keys} == {'network', 'aux_head'}


def test_missing_teacher_checkpoint(tmp_path):
    model = build(str(tmp_path / 'nope.pth'))
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        model.load_teacher()
    with pytest.raises(ValueError, match='teacher_ckpt is not set'):
        build(None).load_teacher()


def test_class_count_mismatch(tmp_path):
    with pytest.raises(ValueError, match='10 classes but the student 5'):
        build(None, student_cls=5)
    path = tmp_path / 't100.pth'
    save_teacher(path, num_classes=100)
    with pytest.raises(ValueError, match='num_classes'):
        build(str(path)).load_teacher()


def test_wrong_architecture_and_corrupt_checkpoint(tmp_path):
    path = tmp_path / 'r20.pth'
    save_teacher(path, arch='resnet20')
    with pytest.raises(ValueError, match=r'teacher checkpoint \(model.'
                       r'teacher_ckpt\) .*r20.pth does not fit model.teacher '
                       r'\(ResNet\): .* of its keys are not in the model.*'
                       'Point model.teacher_ckpt at a checkpoint'):
        build(str(path)).load_teacher()
    bad = tmp_path / 'broken.pth'
    bad.write_bytes(b'not a checkpoint at all')
    with pytest.raises(ValueError, match='broken.pth is not a PyTorch '
                       'checkpoint'):
        build(str(bad)).load_teacher()


def test_the_teacher_runs_before_the_student_and_changes_nothing(tmp_path):
    """The classification teacher sees the batch alone, so it runs first
    (its activations are freed before the student's are held); the losses
    are those of the student-first order to the bit (the teacher draws no
    random numbers, so the student's dropout draws the same ones)."""
    teacher = tmp_path / 'teacher.pth'
    save_teacher(teacher)
    model = MODELS.build(small_cls_distiller_cfg(str(teacher)))
    order = []
    model.teacher.register_forward_pre_hook(
        lambda *_: order.append('teacher'))
    model.student.register_forward_pre_hook(
        lambda *_: order.append('student'))
    inputs = torch.randn(4, 3, 32, 32)
    labels = torch.tensor([0, 1, 2, 3])
    torch.manual_seed(0)  # the aux head's dropout draws from it
    first = model.loss(inputs, labels)
    assert order == ['teacher', 'student']
    model.teacher_needs_student_pass = True  # the detectors' order
    order.clear()
    torch.manual_seed(0)
    second = model.loss(inputs, labels)
    assert order == ['student', 'teacher']
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key
