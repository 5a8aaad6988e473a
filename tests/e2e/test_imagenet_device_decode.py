"""The ImageNet R34 -> R18 DHKD config with its training JPEGs decoded on the
device trains on a tiny generated ImageNet-layout set (on the CPU here), and
the data pipeline benchmark's ImageNet mode runs (tiny sizes)."""
import json
import re

from cls_utils import python_tool, run_tool, save_teacher
from dhkd_det.apis import train_in_process
from dhkd_det.testing import write_imagenet

CONFIG = 'configs/dhkd/imagenet_r34_r18_gpu_decode.py'


def test_r34_r18_trains_with_device_decode(tmp_path):
    data = str(tmp_path / 'imagenet')
    write_imagenet(data, num_classes=2, per_class=4, long_side=(40, 64),
                   gray_every=3)
    teacher = str(tmp_path / 'teacher.pth')
    save_teacher(teacher, arch='tv_resnet34', num_classes=2)
    options = {
        'model.teacher.num_classes': 2,
        'model.teacher_ckpt': teacher,
        'model.student.network.num_classes': 2,
        'model.data_preprocessor.crop_size': 32,
        'train_dataloader.dataset.data_root': data,
        'val_dataloader.dataset.data_root': data,
        'val_dataloader.dataset.crop_size': 32,
        'train_dataloader.batch_size': 4,
        'val_dataloader.batch_size': 8,
        'train_dataloader.num_workers': 1,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'train_cfg.max_epochs': 1,
        'default_hooks.logger.interval': 1,
        'randomness.seed': 0,
    }
    work_dir = tmp_path / 'run'
    cfg = train_in_process(CONFIG, options, str(work_dir), 'device decode')
    assert cfg.model.data_preprocessor.type == 'JpegClsDataPreprocessor'
    scalars = next(work_dir.glob('*/vis_data/scalars.json'))
    records = [json.loads(line) for line in scalars.read_text().splitlines()]
    losses = [r['loss'] for r in records if 'loss' in r]
    assert len(losses) == 2 and all(loss == loss for loss in losses)
    assert any('top1' in r for r in records)  # validated on the worker path


def test_benchmark_imagenet_mode_smoke(tmp_path):
    proc = run_tool(python_tool('benchmarks/data_pipeline.py', '--imagenet',
                                '--smoke', '--model-rate', '--workers', '1'),
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for line in (r'ours: +\d+ images/s', r'torchvision: +\d+ images/s',
                 r'ratio: [\d.]+x \(ImageNet',
                 r'R34 -> R18 DHKD step \(batch 2 at 64, float32\): +\d+ '
                 r'images/s', r'input / step: [\d.]+ \(ours\)'):
        assert re.search(line, out), (line, out)
