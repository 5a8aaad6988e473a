"""tools/train.py --cuda-graph through MMEngine's runner (on CPU the step
that would be captured runs uncaptured): the same weights as the eager run,
a last partial batch taken by the eager step, and an exact resume."""
import os.path as osp

import pytest
import torch

from cls_utils import (REPO, SIGNAL_HOOKS, python_tool, run_tool,
                       small_project, train_signalled)

# 40 images in batches of 16: 16, 16 and a partial 8 an epoch, 3 epochs;
# the DHKD config steps with gradient alignment
EXTRA = SIGNAL_HOOKS + '''
train_cfg = dict(max_epochs=3)
'''


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp('graph')
    return root, small_project(root, extra=EXTRA, n_train=40)


def train(project, wd, *args, signal=''):
    root, cfg = project
    return train_signalled(cfg, wd, root, *args, signal=signal)


def final_weights(wd):
    return torch.load(wd / 'epoch_3.pth')['state_dict']


@pytest.fixture(scope='module')
def graphed(project):
    wd = project[0] / 'graphed'
    proc = train(project, wd, '--cuda-graph')
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert 'runs uncaptured' in proc.stdout + proc.stderr
    return final_weights(wd)


def test_same_weights_as_the_eager_run(project, graphed):
    wd = project[0] / 'eager'
    proc = train(project, wd)
    assert proc.returncode == 0, proc.stderr[-5000:]
    eager = final_weights(wd)
    assert eager.keys() == graphed.keys()
    for key in eager:
        torch.testing.assert_close(graphed[key], eager[key], rtol=1e-4,
                                   atol=1e-5, msg=key)


def test_resume_continues_the_graphed_run_exactly(project, graphed,
                                                  tmp_path):
    wd = tmp_path / 'wd'
    proc = train(project, wd, '--cuda-graph', signal='KILL:epoch:1')
    assert proc.returncode == -9, proc.stderr[-5000:]
    proc = train(project, wd, '--cuda-graph', '--resume')
    assert proc.returncode == 0, proc.stderr[-5000:]
    resumed = final_weights(wd)
    differ = [k for k in resumed if not torch.equal(resumed[k], graphed[k])]
    assert not differ


def test_refused_for_a_detector_config(project, tmp_path):
    root, _ = project
    config = osp.join(REPO, 'configs/dhkd/coco_faster_rcnn_r101_r50.py')
    proc = run_tool(python_tool('train.py', config, '--cuda-graph',
                                '--work-dir', str(tmp_path)), cwd=str(root))
    assert proc.returncode != 0
    assert "--cuda-graph: model.type 'DetDistiller'" in proc.stderr
