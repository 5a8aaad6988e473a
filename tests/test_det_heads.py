"""The dual detection heads: plain contract kept, aux only on request,
prediction identical to the plain MMDetection model after export."""
import pytest

pytest.importorskip('mmdet')
pytest.importorskip('mmcv.ops')

import torch  # noqa: E402
from mmdet.registry import MODELS  # noqa: E402
from mmdet.testing import demo_mm_inputs  # noqa: E402

import dhkd_det  # noqa: E402,F401
from dhkd_det.heads.dual_retina_head import (  # noqa: E402
    distilled_anchors, per_anchor_logits)
from det_utils import (CLASSES, mmdet_scope, small_faster_rcnn,  # noqa
                       small_retinanet)


def plain_state(model):
    """What tools/export_student.py keeps: every key without 'aux'."""
    return {k: v for k, v in model.state_dict().items()
            if not any('aux' in part for part in k.split('.'))}


def batch(model, n=2, shape=(3, 128, 160), training=False, seed=0):
    torch.manual_seed(seed)
    data = demo_mm_inputs(batch_size=n, image_shapes=shape,
                          num_items=[3] * n, num_classes=len(CLASSES))
    return model.data_preprocessor(data, training)


@pytest.mark.parametrize('aux_head', ['linear', 'nonlinear'])
def test_bbox_head_plain_contract(aux_head):
    cfg = dict(type='DualShared2FCBBoxHead', in_channels=8,
               fc_out_channels=16, roi_feat_size=7, num_classes=3,
               aux_head=aux_head)
    head = MODELS.build(cfg)
    head.init_weights()
    plain_cfg = {k: v for k, v in cfg.items() if k != 'aux_head'}
    plain = MODELS.build(dict(plain_cfg, type='Shared2FCBBoxHead'))
    plain.load_state_dict(plain_state(head))
    head.eval(), plain.eval()
    x = torch.randn(5, 8, 7, 7)
    outs = head(x)
    assert len(outs) == 2
    for a, b in zip(outs, plain(x)):
        assert torch.equal(a, b)
    cls, reg, aux = head(x, with_aux=True)
    assert torch.equal(cls, outs[0]) and torch.equal(reg, outs[1])
    assert aux.shape == cls.shape == (5, 4)
    empty = head(torch.zeros(0, 8, 7, 7), with_aux=True)
    assert [t.shape[0] for t in empty] == [0, 0, 0]


def test_bbox_head_rejects_custom_cls_channels():
    with pytest.raises(ValueError, match='C\\+1'):
        MODELS.build(dict(type='DualShared2FCBBoxHead', in_channels=8,
                          fc_out_channels=16, num_classes=3,
                          with_cls=False))


@pytest.mark.parametrize('builder,aux_name', [
    (small_faster_rcnn, 'fc_cls_aux'),
    (small_retinanet, 'retina_cls_aux'),
])
def test_export_predicts_like_plain_mmdet(builder, aux_name):
    """Dual-head detector -> drop the aux keys -> plain MMDetection model
    (Shared2FCBBoxHead / RetinaHead): identical predictions, and the aux
    classifier is never evaluated at test time."""
    torch.manual_seed(0)
    dual = MODELS.build(builder(dual=True))
    dual.init_weights()
    plain = MODELS.build(builder(dual=False))
    plain.load_state_dict(plain_state(dual), strict=True)
    assert any(aux_name in k for k in dual.state_dict())
    assert not any('aux' in k for k in plain.state_dict())
    calls = []
    aux = dict(dual.named_modules())[
        'roi_head.bbox_head.fc_cls_aux' if aux_name == 'fc_cls_aux'
        else 'bbox_head.retina_cls_aux']
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


def test_roi_head_returns_aux_and_sampled_rois():
    torch.manual_seed(0)
    model = MODELS.build(small_faster_rcnn())
    model.init_weights()
    model.train()
    data = batch(model, training=True)
    x = model.extract_feat(data['inputs'])
    proposals = model.rpn_head.predict(x, data['data_samples'], rescale=False)
    losses, res = model.roi_head.loss_and_bbox_results(
        x, proposals, data['data_samples'])
    assert {'loss_cls', 'loss_bbox', 'acc'} <= set(losses)
    n = res['rois'].shape[0]
    assert res['cls_score'].shape == res['cls_score_aux'].shape == (
        n, len(CLASSES) + 1)
    assert res['labels'].shape == (n, )
    assert int(res['labels'].max()) == len(CLASSES)  # background present
    # the same RoIs through the head again give the same logits
    again = model.roi_head._bbox_forward(x, res['rois'], with_aux=True)
    assert torch.allclose(again['cls_score'], res['cls_score'])
    assert torch.allclose(again['cls_score_aux'], res['cls_score_aux'])


def test_retina_head_aux_and_anchor_order():
    torch.manual_seed(0)
    model = MODELS.build(small_retinanet())
    model.init_weights()
    data = batch(model, training=True)
    head = model.bbox_head
    x = model.extract_feat(data['inputs'])
    cls, reg = head(x)
    cls2, reg2, aux = head(x, with_aux=True)
    for a, b in zip(cls + reg, cls2 + reg2):
        assert torch.equal(a, b)
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
