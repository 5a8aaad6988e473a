# The neutral base of the COCO 2017 distillation configs of FCOS (anchor-free)
# R101-caffe-FPN, GN head (MMDetection model zoo, 39.1 box AP) -> R50-caffe-FPN
# (36.6 box AP alone), 1x schedule: the student, the teacher and its
# checkpoint, the runtime hooks and the DDP wrapper; no distillation loss and
# no aux head.  Both are caffe-style (one data_preprocessor feeds both).
_base_ = [
    'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py', 'distill_coco.py'
]

model = dict(
    _delete_=True,
    type='DetDistiller',
    student=_base_.model,
    teacher='mmdet::fcos/fcos_r101-caffe_fpn_gn-head-1x_coco.py',
    teacher_ckpt='https://download.openmmlab.com/mmdetection/v2.0/'
    'fcos/fcos_r101_caffe_fpn_gn-head_1x_coco/'
    'fcos_r101_caffe_fpn_gn-head_1x_coco-0e37b982.pth')
# atomic checkpoints (MMDetection's are written in place), curves at every
# validation and at the end
# and the logged losses read at the logger's interval only
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'),
                     curves=dict(type='PlotCurvesHook'),
                     runtime_info=dict(type='DeferredRuntimeInfoHook'))
# MMDetection's local scalars and, where TensorBoard is installed, its
# event files (tensorboard --logdir WORK_DIR)
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),
                                dict(type='OptionalTensorboardVisBackend')])
