"""The dual detection heads: MMDetection's own forwards and outputs, the aux
classifier on the classification feature, prediction identical to the plain
MMDetection model after export, the sampled RoIs handed over stage by
stage."""
import pytest

pytest.importorskip('mmdet')
pytest.importorskip('mmcv.ops')

import torch  # noqa: E402
from mmdet.registry import MODELS  # noqa: E402
from mmdet.testing import demo_mm_inputs  # noqa: E402

import dhkd_det  # noqa: E402,F401
from dhkd_det.heads import inputs_of, stage_cls_scores  # noqa: E402
from dhkd_det.heads.dual_retina_head import (  # noqa: E402
    distilled_anchors, per_anchor_logits)
from dhkd_det.models import aux_state_keys, named_aux_modules  # noqa: E402
from dense_utils import small_atss, small_fcos  # noqa: E402
from det_utils import (CLASSES, mmdet_scope, small_cascade_rcnn,  # noqa
                       small_faster_rcnn, small_retinanet)


def plain_state(model):
    """What tools/export_student.py keeps: every key but those of the
    auxiliary classifiers the model declares."""
    aux = aux_state_keys(model)
    return {k: v for k, v in model.state_dict().items() if k not in aux}


def batch(model, n=2, shape=(3, 128, 160), training=False, seed=0):
    torch.manual_seed(seed)
    data = demo_mm_inputs(batch_size=n, image_shapes=shape,
                          num_items=[3] * n, num_classes=len(CLASSES))
    return model.data_preprocessor(data, training)


# (dual type, its plain MMDetection type, extra args): a ConvFC layout with
# convs and fcs in every branch, and the two named ConvFC heads
BOX_HEADS = [
    ('DualConvFCBBoxHead', 'ConvFCBBoxHead',
     dict(num_shared_convs=1, num_shared_fcs=0, num_cls_convs=1,
          num_cls_fcs=1, num_reg_convs=1, num_reg_fcs=1,
          conv_out_channels=8)),
    ('DualShared2FCBBoxHead', 'Shared2FCBBoxHead', {}),
    ('DualShared4Conv1FCBBoxHead', 'Shared4Conv1FCBBoxHead',
     dict(conv_out_channels=8)),
]


@pytest.mark.parametrize('aux_head', ['linear', 'nonlinear'])
@pytest.mark.parametrize('dual_type,plain_type,extra', BOX_HEADS)
def test_bbox_heads_are_mmdetections_plus_aux(dual_type, plain_type, extra,
                                              aux_head):
    """Same weights -> the dual head's cls_score / bbox_pred are the plain
    MMDetection head's; the aux classifier reads the classification
    branch's feature (the input of fc_cls)."""
    cfg = dict(in_channels=8, fc_out_channels=16, roi_feat_size=7,
               num_classes=3, **extra)
    torch.manual_seed(0)
    head = MODELS.build(dict(cfg, type=dual_type, aux_head=aux_head))
    head.init_weights()
    plain = MODELS.build(dict(cfg, type=plain_type))
    plain.load_state_dict(plain_state(head), strict=True)
    assert set(head.state_dict()) - set(plain.state_dict()) == {
        k for k in head.state_dict() if k.startswith('fc_cls_aux.')}
    x = torch.randn(5, 8, 7, 7)
    for mode in ('train', 'eval'):
        getattr(head, mode)(), getattr(plain, mode)()
        with inputs_of(head.fc_cls) as cls_feats:
            outs = head(x)
        want = plain(x)
        assert len(outs) == 2
        for got, expected in zip(outs, want):
            assert torch.equal(got, expected)
    assert len(cls_feats) == 1
    aux = head.aux_cls_scores(cls_feats[0])
    assert aux.shape == outs[0].shape == (5, 4)
    if aux_head == 'linear':
        # fc_cls's weights in fc_cls_aux give fc_cls's logits back
        head.fc_cls_aux.load_state_dict(head.fc_cls.state_dict())
        assert torch.equal(head.aux_cls_scores(cls_feats[0]), outs[0])
    with inputs_of(head.fc_cls) as cls_feats:
        head(torch.zeros(0, 8, 7, 7))
    assert head.aux_cls_scores(cls_feats[0]).shape == (0, 4)


@pytest.mark.parametrize('dual_type,plain_type,extra', BOX_HEADS)
def test_bbox_head_rejects_custom_cls_channels(dual_type, plain_type, extra):
    # MMDetection refuses classification-branch layers without fc_cls
    no_cls_branch = {k: v for k, v in extra.items()
                     if not k.startswith('num_cls')}
    with pytest.raises(ValueError, match='C\\+1'):
        MODELS.build(dict(type=dual_type, in_channels=8,
                          fc_out_channels=16, num_classes=3,
                          with_cls=False, **no_cls_branch))


DETECTORS = {
    'faster_rcnn': small_faster_rcnn,
    'faster_rcnn_4conv1fc': lambda dual: small_faster_rcnn(
        dual, bbox_head='Shared4Conv1FCBBoxHead'),
    'cascade_rcnn': small_cascade_rcnn,
    'retinanet': small_retinanet,
    'atss': small_atss,
    'fcos': small_fcos,
}


@pytest.mark.parametrize('kind', list(DETECTORS))
def test_export_predicts_like_plain_mmdet(kind):
    """Dual-head detector -> drop the aux keys -> plain MMDetection model
    (its plain box / RetinaNet heads): identical predictions, and the aux
    classifiers are never evaluated at test time."""
    builder = DETECTORS[kind]
    torch.manual_seed(0)
    dual = MODELS.build(builder(dual=True))
    dual.init_weights()
    plain = MODELS.build(builder(dual=False))
    plain.load_state_dict(plain_state(dual), strict=True)
    aux_modules = list(named_aux_modules(dual).values())
    assert len(aux_modules) == (3 if kind == 'cascade_rcnn' else 1)
    # the declared aux classifiers are all the dual model adds
    assert set(dual.state_dict()) - set(plain.state_dict()) == \
        aux_state_keys(dual)
    calls = []
    for aux in aux_modules:
        aux.register_forward_hook(lambda *a: calls.append(1))
    dual.eval(), plain.eval()
    data = batch(dual)
    with torch.no_grad():
        got = dual.predict(data['inputs'], data['data_samples'])
        data = batch(plain)
        want = plain.predict(data['inputs'], data['data_samples'])
        assert dual._forward(data['inputs'], data['data_samples']) is not None
    assert calls == []
    for g, w in zip(got, want):
        g, w = g.pred_instances, w.pred_instances
        assert len(g) > 0
        for key in ('bboxes', 'scores', 'labels'):
            assert torch.equal(g[key], w[key]), key


@pytest.mark.parametrize('kind', ['faster_rcnn', 'cascade_rcnn'])
def test_roi_heads_record_each_stages_sampled_rois(kind):
    """Inside ``recording()`` MMDetection's own loss hands over, per stage,
    the RoIs its box loss sampled with their labels, fc_cls's logits and
    its input; outside, nothing is kept."""
    torch.manual_seed(0)
    model = MODELS.build(DETECTORS[kind](dual=True))
    model.init_weights()
    model.train()
    data = batch(model, training=True)
    roi_head = model.roi_head
    with roi_head.recording() as stages:
        losses = model.loss(data['inputs'], data['data_samples'])
    assert roi_head._recorded is None
    num_stages = 3 if kind == 'cascade_rcnn' else 1
    assert [s.stage for s in stages] == list(range(num_stages))
    if kind == 'cascade_rcnn':
        assert [s.loss_prefix for s in stages] == ['s0.', 's1.', 's2.']
        assert [s.loss_weight for s in stages] == roi_head.stage_loss_weights
        assert {f's{i}.loss_cls' for i in range(3)} <= set(losses)
        # later stages sample from the previous stage's refined boxes
        assert not torch.equal(stages[0].rois, stages[1].rois)
    else:
        assert (stages[0].loss_prefix, stages[0].loss_weight) == ('', 1.0)
        assert {'loss_cls', 'loss_bbox', 'acc'} <= set(losses)
    x = model.extract_feat(data['inputs'])
    for s in stages:
        n = s.rois.shape[0]
        # the sampler's RoIs of both images (later cascade stages sample
        # from fewer boxes, the previous stage's)
        assert n == 2 * 64 if s.stage == 0 else 0 < n <= 2 * 64
        assert s.cls_score.shape == (n, len(CLASSES) + 1)
        assert s.labels.shape == (n, )
        assert int(s.labels.max()) == len(CLASSES)  # background present
        box_head = roi_head.bbox_head[s.stage] if num_stages > 1 \
            else roi_head.bbox_head
        assert torch.equal(box_head.fc_cls(s.cls_feat), s.cls_score)
        assert box_head.aux_cls_scores(s.cls_feat).shape == s.cls_score.shape
        # the same RoIs through the stage's head again give the same logits,
        # as MMDetection's own (private) box forward computes them
        again = stage_cls_scores(roi_head, s.stage, x, s.rois)
        assert torch.allclose(again, s.cls_score, atol=1e-6)
        mmdet_args = (s.stage, x, s.rois) if num_stages > 1 else (x, s.rois)
        assert torch.equal(again,
                           roi_head._bbox_forward(*mmdet_args)['cls_score'])


def test_retina_head_aux_and_anchor_order():
    torch.manual_seed(0)
    model = MODELS.build(small_retinanet())
    model.init_weights()
    plain = MODELS.build(small_retinanet(dual=False))
    plain.load_state_dict(plain_state(model), strict=True)
    data = batch(model, training=True)
    head = model.bbox_head
    x = model.extract_feat(data['inputs'])
    with head.recording_cls_feats() as cls_feats:
        cls, reg = head(x)
    want_cls, want_reg = plain.bbox_head(x)
    for a, b in zip(cls + reg, want_cls + want_reg):
        assert torch.equal(a, b)
    assert len(cls_feats) == len(cls)  # one classification feature a level
    aux = head.aux_cls_scores(cls_feats)
    assert torch.equal(aux[0], head.retina_cls_aux(cls_feats[0]))
    assert [a.shape for a in aux] == [c.shape for c in cls]
    # both classifiers start from the focal-loss prior
    assert torch.allclose(head.retina_cls_aux.bias, head.retina_cls.bias)

    from mmdet.models.utils import unpack_gt_instances
    gts, ignores, metas = unpack_gt_instances(data['data_samples'])
    keep = distilled_anchors(head, cls, gts, metas, ignores)
    flat = per_anchor_logits(cls, head.cls_out_channels)
    assert flat.shape == (keep.numel(), len(CLASSES))
    # same order as RetinaHead's own loss: (image, level, y, x, anchor)
    anchors, valid = head.get_anchors([c.shape[-2:] for c in cls], metas,
                                      device=cls[0].device)
    labels, weights = head.get_targets(anchors, valid, gts, metas, ignores)[:2]
    level0 = cls[0].permute(0, 2, 3, 1).reshape(len(metas), -1,
                                                 len(CLASSES))
    n0 = level0.shape[1]
    total = keep.numel() // len(metas)
    assert torch.equal(flat.view(len(metas), total, -1)[:, :n0], level0)
    assert torch.equal(keep.view(len(metas), total)[:, :n0], weights[0] > 0)
    assert 0 < int(keep.sum()) <= keep.numel()


# (builder, MMDetection's classification conv) of each dense dual head
DENSE = {
    'retinanet': (small_retinanet, 'retina_cls'),
    'atss': (small_atss, 'atss_cls'),
    'fcos': (small_fcos, 'conv_cls'),
}


@pytest.mark.parametrize('kind', list(DENSE))
def test_dense_heads_are_mmdetections_plus_aux(kind):
    """Same weights -> the dual dense head's forward outputs are the plain
    MMDetection head's; the aux classifier (``<main>_aux``) is the one
    module added, a conv of the main one's shape on its input, and starts
    from the focal-loss prior."""
    build, main_name = DENSE[kind]
    torch.manual_seed(0)
    model = MODELS.build(build())
    model.init_weights()
    plain = MODELS.build(build(dual=False))
    plain.load_state_dict(plain_state(model), strict=True)
    head = model.bbox_head
    assert head.main_classifier() is getattr(head, main_name)
    assert head.aux_module_names() == (f'{main_name}_aux', )
    aux_conv = getattr(head, f'{main_name}_aux')
    assert aux_conv.weight.shape == head.main_classifier().weight.shape
    torch.testing.assert_close(aux_conv.bias, head.main_classifier().bias)
    data = batch(model, training=True)
    x = model.extract_feat(data['inputs'])
    with head.recording_cls_feats() as cls_feats:
        outs = head(x)
    want = plain.bbox_head(x)
    assert len(outs) == len(want)
    for got_level, want_level in zip(outs, want):
        for a, b in zip(got_level, want_level):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    cls = outs[0]
    assert len(cls_feats) == len(cls)  # one classification feature a level
    torch.testing.assert_close(head.main_classifier()(cls_feats[0]), cls[0])
    aux = head.aux_cls_scores(cls_feats)
    assert [a.shape for a in aux] == [c.shape for c in cls]
    torch.testing.assert_close(aux[1], aux_conv(cls_feats[1]))


def _mixed_size_batch(model):
    """Two images of different sizes: the smaller one is padded, so some
    of its anchors are not valid."""
    torch.manual_seed(0)
    data = demo_mm_inputs(batch_size=2, image_shapes=[(3, 128, 160),
                                                      (3, 64, 96)],
                          num_items=[3, 2], num_classes=len(CLASSES))
    return model.data_preprocessor(data, True)


def test_atss_distils_the_anchors_its_focal_loss_weighs():
    """ATSS's get_targets returns the anchors first (AnchorHead's returns
    the labels first): the distilled anchors are those of label weight
    > 0 in ATSS's own assignment, not a field read by position."""
    from mmdet.models.utils import unpack_gt_instances
    torch.manual_seed(0)
    model = MODELS.build(small_atss())
    model.init_weights()
    head = model.bbox_head
    data = _mixed_size_batch(model)
    cls = head(model.extract_feat(data['inputs']))[0]
    gts, ignores, metas = unpack_gt_instances(data['data_samples'])
    keep = head.distilled_priors(cls, gts, metas, ignores)
    flat = per_anchor_logits(cls, head.cls_out_channels)
    assert keep.dtype == torch.bool and keep.shape == (flat.shape[0], )
    anchors, valid = head.get_anchors([c.shape[-2:] for c in cls], metas,
                                      device=cls[0].device)
    targets = head.get_targets(anchors, valid, gts, metas, ignores)
    (_, labels, label_weights, _, _, _) = targets
    want = torch.cat(label_weights, 1).reshape(-1) > 0
    assert torch.equal(keep, want)
    # the padded image's invalid anchors are left out, the other image's
    # anchors are all kept
    per_image = keep.view(2, -1)
    assert bool(per_image[0].all()) and not bool(per_image[1].all())
    # position 1, where AnchorHead returns the label weights, holds ATSS's
    # labels (class indices, background = num_classes)
    assert targets[1] is labels and labels[0].dtype == torch.long
    assert int(torch.cat(labels, 1).max()) == len(CLASSES)


def test_fcos_distils_every_point():
    """FCOS's focal loss covers every point of every image (no label
    weights): all are distilled, in the order of ``per_prior_logits``."""
    from mmdet.models.utils import unpack_gt_instances
    torch.manual_seed(0)
    model = MODELS.build(small_fcos())
    model.init_weights()
    head = model.bbox_head
    data = _mixed_size_batch(model)
    cls = head(model.extract_feat(data['inputs']))[0]
    gts, ignores, metas = unpack_gt_instances(data['data_samples'])
    keep = head.distilled_priors(cls, gts, metas, ignores)
    flat = per_anchor_logits(cls, head.cls_out_channels)
    assert flat.shape == (2 * sum(c.shape[-2] * c.shape[-1] for c in cls),
                          len(CLASSES))
    assert keep.shape == (flat.shape[0], ) and bool(keep.all())


def test_a_dense_head_must_implement_the_interface():
    """A dual dense head that does not say which priors it distils cannot
    be built; the distiller refuses a plain dense head by name."""
    from mmdet.models.dense_heads import ATSSHead

    from dhkd_det.heads import DistillDenseHead, distill_interface

    class Incomplete(DistillDenseHead, ATSSHead):
        main_cls_name = 'atss_cls'

    with pytest.raises(TypeError, match='distilled_priors'):
        Incomplete(num_classes=3, in_channels=8, feat_channels=8,
                   stacked_convs=1)
    plain = MODELS.build(small_atss(dual=False)).bbox_head
    with pytest.raises(TypeError, match="ATSSHead does not implement "
                       "DistillDenseHead.*'DualATSSHead'"):
        distill_interface(plain)
