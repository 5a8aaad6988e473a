# A user's MMDetection project distilled with DHKD: a three-class COCO-format
# data set, a Faster R-CNN R101-FPN teacher the user trained on it with plain
# MMDetection, and an R50-FPN student.  Copy this file into your project and
# point `_base_` at the dhkd_det checkout, or, with the package installed
# from its wheel, at `'dhkd_det::dhkd/coco_faster_rcnn_r101_r50.py'` (and
# train with `dhkd-train`, which reads such names).
#
#   python tools/train.py configs/examples/my_project_dhkd.py
#   python tools/export_student.py work_dirs/my_project_dhkd/epoch_24.pth \
#       student.pth          # a plain Faster R-CNN checkpoint
_base_ = '../dhkd/coco_faster_rcnn_r101_r50.py'

# registers DetDistiller and the dual heads in MMDetection's registries
custom_imports = dict(imports=['dhkd_det'], allow_failed_imports=False)

classes = ('balloon', 'kite', 'drone')
data_root = 'data/my_dataset/'

model = dict(
    student=dict(roi_head=dict(bbox_head=dict(num_classes=len(classes)))),
    # the teacher's own training config and checkpoint (same classes)
    teacher='configs/my_project/faster-rcnn_r101_fpn_2x_my_dataset.py',
    teacher_ckpt='work_dirs/faster-rcnn_r101_fpn_2x_my_dataset/epoch_24.pth')

train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=dict(classes=classes),
        ann_file='annotations/train.json',
        data_prefix=dict(img='images/train/')))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=dict(classes=classes),
        ann_file='annotations/val.json',
        data_prefix=dict(img='images/val/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

# One more hook: extend the inherited list (DHKDHook, CocoAuditHook,
# LossGuardHook) rather than restating it, so that a hook added to the base
# later reaches this project too.  MMDetection's NumClassCheckHook checks
# the student's heads against `classes` before each epoch.
custom_hooks = _base_.custom_hooks + [dict(type='NumClassCheckHook')]
