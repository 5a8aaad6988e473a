"""What the GPU check runs on (versions, device, which implementation of
mmcv's ops is active) and whether mmcv's ops agree across devices and with
torchvision."""
import datetime
import os
import platform
import sys

import numpy as np
import torch


def ops_implementation() -> dict:
    """Which mmcv ops run: the served-ops layer's answer where it exists,
    and the module behind ``mmcv._ext`` in any case."""
    out = {}
    try:
        from dhkd_det.ops import ops_backend
        out['dhkd_det.ops.ops_backend'] = ops_backend()
    except ImportError as e:
        out['dhkd_det.ops.ops_backend'] = f'unavailable ({e})'
    try:
        import mmcv.ops  # noqa: F401
        ext = sys.modules['mmcv._ext']
        out['mmcv._ext'] = dict(
            name=ext.__name__, file=getattr(ext, '__file__', None),
            served=bool(getattr(ext, 'DHKD_SERVED', False)))
    except Exception as e:  # what fails here is the finding
        out['mmcv._ext'] = f'import mmcv.ops failed: {type(e).__name__}: {e}'
    return out


def env_part(device: str) -> dict:
    import mmcv
    import mmdet
    import mmengine
    import torchvision
    info = dict(
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds'),
        python=platform.python_version(), torch=torch.__version__,
        torchvision=torchvision.__version__, cuda=torch.version.cuda,
        cudnn=torch.backends.cudnn.version(), mmcv=mmcv.__version__,
        mmdet=mmdet.__version__, mmengine=mmengine.__version__,
        numpy=np.__version__, cpu_count=os.cpu_count(), device=device,
        ops=ops_implementation())
    if device == 'cuda':
        props = torch.cuda.get_device_properties(0)
        info.update(
            gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30,
                                                 1),
            compute_capability=f'{props.major}.{props.minor}',
            cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
            matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32)
    return info


def ops_part(device: str) -> dict:
    """Each op on every device at hand: output device, and max abs
    difference to the CPU result and to torchvision's reference."""
    import mmcv.ops as ops
    import torchvision.ops as tv
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(300, 2, generator=g) * 200
    boxes = torch.cat([xy, xy + 10 + torch.rand(300, 2, generator=g) * 60],
                      1)
    scores = torch.rand(300, generator=g)
    labels = torch.randint(0, 5, (300, ), generator=g)
    feats = torch.randn(2, 16, 40, 40, generator=g)
    rois = torch.cat([torch.randint(0, 2, (64, 1), generator=g).float(),
                      boxes[:64] / 2], 1)
    logits = torch.randn(128, 10, generator=g)
    targets = torch.randint(0, 11, (128, ), generator=g)  # 10 = background

    def run(on):
        out = {}
        keep = ops.nms(boxes.to(on), scores.to(on), 0.5)[1]
        out['nms'] = keep
        out['batched_nms'] = ops.batched_nms(
            boxes.to(on), scores.to(on), labels.to(on),
            dict(type='nms', iou_threshold=0.5))[1]
        f = feats.to(on, copy=True).requires_grad_()
        pooled = ops.RoIAlign((7, 7), 0.5, sampling_ratio=2,
                              aligned=True)(f, rois.to(on))
        pooled.pow(2).sum().backward()
        out['roi_align'], out['roi_align_grad'] = pooled, f.grad
        x = logits.to(on, copy=True).requires_grad_()
        loss = ops.sigmoid_focal_loss(x, targets.to(on), 2.0, 0.25, None,
                                      'sum')
        loss.backward()
        out['sigmoid_focal_loss'], out['sigmoid_focal_loss_grad'] = loss, \
            x.grad
        return out

    def reference():
        f = feats.clone().requires_grad_()
        pooled = tv.roi_align(f, rois, (7, 7), 0.5, 2, aligned=True)
        pooled.pow(2).sum().backward()
        x = logits.clone().requires_grad_()
        onehot = torch.nn.functional.one_hot(targets, 11)[:, :10].float()
        loss = tv.sigmoid_focal_loss(x, onehot, 0.25, 2.0, 'sum')
        loss.backward()
        return dict(
            nms=tv.nms(boxes, scores, 0.5),
            batched_nms=tv.batched_nms(boxes, scores, labels, 0.5),
            roi_align=pooled, roi_align_grad=f.grad, sigmoid_focal_loss=loss,
            sigmoid_focal_loss_grad=x.grad)

    def diff(a, b):
        a, b = a.detach().cpu(), b.detach().cpu()
        if a.dtype == torch.long:  # kept boxes: how many are not in both
            return len(set(a.tolist()) ^ set(b.tolist()))
        return float((a.double() - b.double()).abs().max())

    cpu, ref = run('cpu'), reference()
    results = {}
    for on in ['cpu'] + (['cuda'] if device == 'cuda' else []):
        outs = cpu if on == 'cpu' else run(on)
        results[on] = {
            name: dict(device=str(t.device),
                       max_abs_diff_vs_cpu=diff(t, cpu[name]),
                       max_abs_diff_vs_torchvision=diff(t, ref[name]))
            for name, t in outs.items()}
    return dict(implementation=ops_implementation(), results=results)
