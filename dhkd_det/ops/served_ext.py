"""mmcv's kernels that MMDetection's Faster R-CNN and RetinaNet call, served
by torchvision / PyTorch on every device they support (CPU and CUDA).

Loaded as ``mmcv._ext`` by ``import_hook.py`` when mmcv has no compiled ops.
Each function has the name and the signature of mmcv's C++ binding and, like
it, writes its results into the tensors it is given, so mmcv's own Python
wrappers (``mmcv.ops.nms``, ``batched_nms``, ``RoIAlign``,
``sigmoid_focal_loss``) run unchanged on top.  Any other kernel raises an
error naming it and how to get mmcv's compiled ops.

Equivalence with mmcv's compiled kernels: RoIAlign follows the same sampling
(adaptive ``ceil(roi / bin)`` for ``sampling_ratio=0``, the half-pixel shift
of ``aligned=True``); nms keeps the same boxes, but where scores tie mmcv's
CPU kernel sorts unstably and torchvision's stably, so tied boxes may be kept
in another order; the focal loss is mmcv's CUDA formula term by term.
"""
import torch
import torchvision  # noqa: F401  registers torch.ops.torchvision

DHKD_SERVED = True
FLT_MIN = torch.finfo(torch.float32).tiny


def nms(boxes, scores, iou_threshold, offset=0):
    """Indices of the kept boxes, by decreasing score.  mmcv's ``offset``
    (1 for the legacy ``+1`` box size) becomes a shift of x2 and y2: every
    width, height and overlap then grows by exactly ``offset``."""
    if offset:
        boxes = torch.cat([boxes[:, :2], boxes[:, 2:] + offset], dim=1)
    return torch.ops.torchvision.nms(boxes, scores, float(iou_threshold))


def roi_align_forward(input, rois, output, argmax_y, argmax_x, aligned_height,
                      aligned_width, spatial_scale, sampling_ratio, pool_mode,
                      aligned):
    _require_avg_pool(pool_mode)
    if rois.numel() == 0:
        return
    output.copy_(torch.ops.torchvision.roi_align(
        input, rois.to(input.dtype), float(spatial_scale), int(aligned_height),
        int(aligned_width), int(sampling_ratio), bool(aligned)))


def roi_align_backward(grad_output, rois, argmax_y, argmax_x, grad_input,
                       aligned_height, aligned_width, spatial_scale,
                       sampling_ratio, pool_mode, aligned):
    _require_avg_pool(pool_mode)
    if rois.numel() == 0:
        return
    batch, channels, height, width = grad_input.shape
    grad_input.copy_(torch.ops.torchvision._roi_align_backward(
        grad_output, rois.to(grad_output.dtype), float(spatial_scale),
        int(aligned_height), int(aligned_width), batch, channels, height,
        width, int(sampling_ratio), bool(aligned)))


def _require_avg_pool(pool_mode):
    if pool_mode != 1:  # mmcv passes 0 for 'max', 1 for 'avg'
        raise NotImplementedError(_unserved("roi_align with pool_mode='max'"))


def _focal_terms(input, target, weight, alpha):
    """p, the positive mask, the class weights per element (or None)."""
    num_classes = input.size(1)
    p = input.sigmoid()
    classes = torch.arange(num_classes, device=input.device)
    positive = target.view(-1, 1) == classes
    scale = None
    if weight.numel():
        if bool((target >= num_classes).any()):
            # mmcv's kernel would read past the weights here
            raise ValueError('sigmoid_focal_loss: class weights need every '
                             f'target < {num_classes} (no background label)')
        scale = weight[target].view(-1, 1)
    return p, positive, scale


def sigmoid_focal_loss_forward(input, target, weight, output, gamma, alpha):
    """Per element: -a (1-p)^g log p for the target class, -(1-a) p^g
    log(1-p) for the others; times the target's class weight if given."""
    p, positive, scale = _focal_terms(input, target, weight, alpha)
    term_p = (1 - p).pow(gamma) * p.clamp(min=FLT_MIN).log()
    term_n = p.pow(gamma) * (1 - p).clamp(min=FLT_MIN).log()
    loss = torch.where(positive, -alpha * term_p, -(1 - alpha) * term_n)
    output.copy_(loss if scale is None else loss * scale)


def sigmoid_focal_loss_backward(input, target, weight, grad_input, gamma,
                                alpha):
    """d(forward)/d(input), element-wise, as mmcv's kernel computes it."""
    p, positive, scale = _focal_terms(input, target, weight, alpha)
    term_p = (1 - p).pow(gamma) * (
        1 - p - gamma * p * p.clamp(min=FLT_MIN).log())
    term_n = p.pow(gamma) * (
        gamma * (1 - p) * (1 - p).clamp(min=FLT_MIN).log() - p)
    grad = torch.where(positive, -alpha * term_p, -(1 - alpha) * term_n)
    grad_input.copy_(grad if scale is None else grad * scale)


def get_compiler_version():
    return f'none (mmcv ops served by torchvision {torchvision.__version__})'


def get_compiling_cuda_version():
    return torch.version.cuda or 'not available'


def _unserved(op):
    return (f'the mmcv op {op} is not served by dhkd_det (it serves nms, '
            'batched_nms, RoIAlign and sigmoid_focal_loss with torchvision / '
            'PyTorch kernels) and the installed mmcv has no compiled ops: '
            'build them with `DHKD_MMCV_OPS=compile bash tools/install.sh` '
            '(CUDA kernels where nvcc and a GPU are visible)')


def __getattr__(name):
    """mmcv checks at import that each kernel it binds exists; the ones not
    served exist too and fail when called, naming themselves."""
    if name.startswith('_'):
        raise AttributeError(name)

    def unserved(*args, **kwargs):
        raise NotImplementedError(_unserved(name))

    unserved.__name__ = name
    return unserved
