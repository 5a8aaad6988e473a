"""The classification path needs torch, torchvision and mmengine only: with
mmcv and mmdet made unimportable, the package imports (without matplotlib)
and a DHKD step runs."""
import subprocess
import sys

import pytest

from cls_utils import REPO

SCRIPT = r'''
import sys
sys.modules['mmcv'] = None   # import mmcv / mmdet now raise ImportError
sys.modules['mmdet'] = None
import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import MODELS
import dhkd_det
import dhkd_det.engine
assert not dhkd_det.HAS_MMDET
# figures are drawn only when asked: the package and its hooks never
# import matplotlib (mmdet itself does, so it is checked here)
assert 'matplotlib' not in sys.modules
model = MODELS.build(dict(
    type='ClsDistiller',
    student=dict(type='DualHeadClassifier',
                 network=dict(type='resnet8', num_classes=10),
                 aux_head='nonlinear'),
    teacher=dict(type='resnet8', num_classes=10),
    teacher_ckpt=sys.argv[1],
    distill_losses=dict(aux=dict(type='BinaryKLNormLoss'))))
torch.save({'model': MODELS.build(dict(type='resnet8', num_classes=10))
            .state_dict()}, sys.argv[1])
opt = dhkd_det.optim.GradAlignOptimWrapper(
    torch.optim.SGD(model.parameters(), lr=0.1))
data = dict(inputs=torch.randint(0, 255, (4, 3, 32, 32), dtype=torch.uint8),
            data_samples=torch.tensor([0, 1, 2, 3]))
log = model.train_step(data, opt)
assert set(log) >= {'loss', 'loss_ce_main', 'loss_binary_kl_norm_aux'}
loaded = [m for m in sys.modules if m.split('.')[0] in ('mmcv', 'mmdet')
          and sys.modules[m] is not None]
assert not loaded, loaded
print('ok')
'''


@pytest.mark.slow
def test_classification_without_mmcv_and_mmdet(tmp_path):
    proc = subprocess.run(
        [sys.executable, '-c', SCRIPT, str(tmp_path / 't.pth')], cwd=REPO,
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith('ok')
