# DHKD on COCO 2017: Faster R-CNN R101-FPN -> R18-FPN (the teacher and
# student pair of DKD's COCO experiments), MMDetection's 2x schedule.
_base_ = './coco_faster_rcnn_r101_r50.py'

model = dict(
    student=dict(
        backbone=dict(
            depth=18,
            init_cfg=dict(type='Pretrained',
                          checkpoint='torchvision://resnet18')),
        neck=dict(in_channels=[64, 128, 256, 512])))
