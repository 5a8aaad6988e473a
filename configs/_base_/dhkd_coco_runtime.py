# The former name of distill_coco.py, kept so that configs written before
# the rename (`_base_ = [..., 'dhkd_coco_runtime.py']`) still build; new
# configs name distill_coco.py.
_base_ = './distill_coco.py'
