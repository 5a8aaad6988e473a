# configs/dhkd/imagenet_r34_r18.py with the training JPEGs decoded and
# augmented on the GPU: loader workers only read the files, and
# JpegClsDataPreprocessor decodes each batch with nvJPEG
# (torchvision.io.decode_jpeg), then applies RandomResizedCrop(224), flip
# and normalisation there. Validation still decodes in the workers. The same
# two keys switch any ImageNet config (docs/classification.md).
_base_ = 'imagenet_r34_r18.py'
train_dataloader = dict(dataset=dict(decode='device'))
model = dict(data_preprocessor=dict(type='JpegClsDataPreprocessor'))
