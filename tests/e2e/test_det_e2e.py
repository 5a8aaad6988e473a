"""End to end through the real tools: train the Faster R-CNN DHKD config
(shrunk to small models and a tiny COCO set written to tmp), test it, export
the student and test that in plain MMDetection, and a 2-process CPU run."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

pytest.importorskip('mmdet')
pytest.importorskip('mmcv.ops')

from mmengine.config import Config  # noqa: E402

from conftest import free_port  # noqa: E402
from det_utils import (REPO, mmdet_scope, save_detector,  # noqa
                       write_config)
from dhkd_det.testing import (SMALL_FASTER_RCNN, small_data_cfg,  # noqa: E402
                              write_tiny_coco)

DHKD_CFG = osp.join(REPO, 'configs', 'dhkd', 'coco_faster_rcnn_r101_r50.py')


def run(cmd, cwd=REPO, timeout=900, env=None):
    env = dict(os.environ, **(env or {}))
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'{cmd} failed:\n{out[-6000:]}'
    return out


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    """Tiny data (an empty image and a box of negative width in the training
    set), a small teacher config + checkpoint, the override config of our
    Faster R-CNN DHKD config, and a plain MMDetection config of the same
    small student."""
    root = str(tmp_path_factory.mktemp('det'))
    data = osp.join(root, 'data')
    write_tiny_coco(data, 'train', num_images=4, seed=0, empty=(3, ),
                    extra_anns={0: [[20, 20, -8, 30, 1]]})
    write_tiny_coco(data, 'val', num_images=2, seed=1)
    small = f'model = {SMALL_FASTER_RCNN!r}\n'
    teacher_cfg = write_config(
        osp.join(root, 'teacher.py'),
        "_base_ = 'mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py'\n" +
        small)
    ckpt = osp.join(root, 'teacher.pth')
    import dhkd_det  # noqa: F401
    save_detector(ckpt, Config.fromfile(teacher_cfg).model, seed=1)
    distill_cfg = write_config(
        osp.join(root, 'distill.py'),
        f'_base_ = {DHKD_CFG!r}\n'
        f'model = dict(student={SMALL_FASTER_RCNN!r}, '
        f'teacher={teacher_cfg!r})\n' + small_data_cfg(data))
    plain_cfg = write_config(
        osp.join(root, 'plain.py'),
        "_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py'\n" +
        small + small_data_cfg(data))
    return dict(root=root, data=data, ckpt=ckpt, distill_cfg=distill_cfg,
                plain_cfg=plain_cfg)


def metrics_of(out):
    line = [ln for ln in out.splitlines() if ln.startswith('metrics: ')]
    assert line, out[-3000:]
    return dict(kv.split('=') for kv in line[-1][len('metrics: '):].split(
        ', '))


def test_config_overrides_and_example_project():
    cfg = Config.fromfile(DHKD_CFG)
    assert cfg.model.type == 'DetDistiller'
    assert cfg.model.student.roi_head.type == 'DualStandardRoIHead'
    assert 'download.openmmlab.com/mmdetection' in cfg.model.teacher_ckpt
    assert 'student' not in cfg  # the helper variable is deleted
    assert cfg.custom_imports.imports == ['dhkd_det']
    cfg.merge_from_dict({'model.teacher_ckpt': '/x.pth',
                         'train_dataloader.dataset.data_root': '/d/',
                         'train_cfg.max_epochs': 3})
    assert cfg.train_cfg.max_epochs == 3
    r18 = Config.fromfile(osp.join(REPO, 'configs/dhkd/'
                                   'coco_faster_rcnn_r101_r18.py'))
    assert r18.model.student.backbone.depth == 18
    assert r18.model.student.neck.in_channels == [64, 128, 256, 512]
    cascade = Config.fromfile(osp.join(REPO, 'configs/dhkd/'
                                       'coco_cascade_rcnn_r101_r50.py'))
    assert cascade.model.student.roi_head.type == 'DualCascadeRoIHead'
    assert [h.type for h in cascade.model.student.roi_head.bbox_head] == [
        'DualShared2FCBBoxHead'] * 3
    assert 'cascade_rcnn_r101_fpn_20e' in cascade.model.teacher_ckpt
    assert cascade.train_cfg.max_epochs == 20
    assert not {'student', 'stage_head'} & set(cascade)
    retina = Config.fromfile(osp.join(REPO, 'configs/dhkd/'
                                      'coco_retinanet_r101_r50.py'))
    assert retina.model.student.bbox_head.type == 'DualRetinaHead'
    assert 'retinanet_r101' in retina.model.teacher_ckpt
    atss = Config.fromfile(osp.join(REPO, 'configs/dhkd/'
                                    'coco_atss_r101_r50.py'))
    assert atss.model.student.bbox_head.type == 'DualATSSHead'
    assert 'atss_r101_fpn_1x' in atss.model.teacher_ckpt
    fcos = Config.fromfile(osp.join(REPO, 'configs/dhkd/'
                                    'coco_fcos_r101_r50.py'))
    assert fcos.model.student.bbox_head.type == 'DualFCOSHead'
    assert 'fcos_r101_caffe_fpn_gn-head_1x' in fcos.model.teacher_ckpt
    # the caffe-style student and teacher read the same preprocessed batch
    assert fcos.model.student.data_preprocessor.bgr_to_rgb is False
    example = Config.fromfile(osp.join(REPO, 'configs/examples/'
                                       'my_project_dhkd.py'))
    assert example.model.student.roi_head.bbox_head.num_classes == 3
    assert example.model.student.roi_head.bbox_head.type == \
        'DualShared2FCBBoxHead'
    assert example.train_dataloader.dataset.metainfo.classes == (
        'balloon', 'kite', 'drone')


@pytest.mark.parametrize('name', ['coco_faster_rcnn_r101_r50.py',
                                  'coco_faster_rcnn_r101_r18.py',
                                  'coco_cascade_rcnn_r101_r50.py',
                                  'coco_retinanet_r101_r50.py',
                                  'coco_atss_r101_r50.py',
                                  'coco_fcos_r101_r50.py'])
def test_real_configs_build(name):
    """The full-size distillers build (no weights are downloaded: the
    teacher checkpoint is read lazily, pretrained init is not run)."""
    from mmdet.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'dhkd', name))
    model = MODELS.build(cfg.model)
    assert model.has_aux and not model.teacher_loaded
    assert model.teacher.backbone.depth == 101
    assert model.student.backbone.depth == (18 if 'r18' in name else 50)


def test_kd_baseline_config_builds():
    """configs/kd/coco_faster_rcnn_r101_r50.py: the DHKD config with KD on
    the student's one classifier instead of an aux head."""
    from mmdet.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'kd',
                                   'coco_faster_rcnn_r101_r50.py'))
    dhkd = Config.fromfile(DHKD_CFG)
    head = cfg.model.student.roi_head.bbox_head
    assert head.type == 'Shared2FCBBoxHead' and 'aux_head' not in head
    assert dict(cfg.model.distill_losses) == {
        'main': dict(type='KDLoss', temperature=2.0, loss_weight=1.0)}
    # all else is the DHKD config's
    assert cfg.model.teacher_ckpt == dhkd.model.teacher_ckpt
    assert cfg.custom_hooks == dhkd.custom_hooks
    assert cfg.param_scheduler == dhkd.param_scheduler
    assert {k: v for k, v in head.items() if k != 'type'} == {
        k: v for k, v in dhkd.model.student.roi_head.bbox_head.items()
        if k not in ('type', 'aux_head')}
    model = MODELS.build(cfg.model)
    assert not model.has_aux and model.two_stage
    assert model.teacher.backbone.depth == 101
    assert not hasattr(model.student.roi_head.bbox_head, 'fc_cls_aux')


def test_invalid_box_is_skipped_and_empty_image_kept(project):
    """MMDetection's CocoDataset drops a box with w < 1 or h < 1 (here
    negative width) without a message; with filter_empty_gt=False an image
    without boxes stays in the training set."""
    from mmdet.registry import DATASETS
    cfg = Config.fromfile(project['distill_cfg'])
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(ds) == 4
    with open(osp.join(project['data'], 'annotations', 'train.json')) as f:
        anns = json.load(f)['annotations']
    n0 = sum(a['image_id'] == 1 for a in anns)
    infos = {osp.basename(ds.get_data_info(i)['img_path']):
             ds.get_data_info(i) for i in range(len(ds))}
    assert len(infos['train_0.jpg']['instances']) == n0 - 1
    assert infos['train_3.jpg']['instances'] == []


def test_train_test_export_plain_mmdet(project, tmp_path):
    work = str(tmp_path / 'work')
    out = run([sys.executable, 'tools/train.py', project['distill_cfg'],
               '--work-dir', work, '--cfg-options',
               'train_cfg.max_epochs=2', 'train_cfg.val_interval=2',
               f'model.teacher_ckpt={project["ckpt"]}',
               f'train_dataloader.dataset.data_root={project["data"]}/'])
    assert 'loss_binary_kl_norm_aux' in out
    assert 'teacher_agree' in out
    # DHKDHook names the negative-width box MMDetection silently skips
    assert 'skipped by MMDetection' in out and '[x, y, width, height]' in out
    ckpt = osp.join(work, 'epoch_2.pth')
    assert osp.isfile(ckpt)

    # CocoMetric also writes the detections to <outfile_prefix>.bbox.json;
    # --out and --show-dir as in MMDetection's tools/test.py
    out = run([sys.executable, 'tools/test.py', project['distill_cfg'], ckpt,
               '--work-dir', str(tmp_path / 'test'), '--out',
               str(tmp_path / 'predictions.pkl'), '--show-dir', 'drawn',
               '--cfg-options',
               f'test_evaluator.outfile_prefix={tmp_path}/ours'])
    ours = metrics_of(out)
    assert 'coco/bbox_mAP' in ours
    from mmengine.fileio import load
    predictions = load(str(tmp_path / 'predictions.pkl'))
    assert len(predictions) == 2  # the val images
    assert {'pred_instances', 'img_path'} <= set(predictions[0])
    drawn = list((tmp_path / 'test').glob('*/drawn/*.jpg'))
    assert sorted(p.name for p in drawn) == ['val_0.jpg', 'val_1.jpg']

    # no box above the threshold on any image: an empty metric, named
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', project['distill_cfg'], ckpt,
         '--work-dir', str(tmp_path / 'empty'), '--cfg-options',
         'model.student.test_cfg.rcnn.score_thr=1.1'], cwd=REPO,
        env=dict(os.environ, PYTHONPATH=REPO), capture_output=True,
        text=True, timeout=900)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "the test metric is empty: CocoMetric (prefix 'coco') returned " \
        'no value' in proc.stderr, proc.stderr[-3000:]
    assert 'metrics:' not in proc.stdout

    exported = str(tmp_path / 'student.pth')
    run([sys.executable, 'tools/export_student.py', ckpt, exported])
    import torch
    state = torch.load(exported, map_location='cpu')['state_dict']
    # MMEngine's load_from ignores extra keys: the exported ones must be
    # exactly the plain detector's
    from mmdet.registry import MODELS
    plain = MODELS.build(Config.fromfile(project['plain_cfg']).model)
    assert set(state) == set(plain.state_dict())

    # plain MMDetection, without dhkd_det imported anywhere
    script = f'''
import json, sys
from mmengine.config import Config
from mmengine.runner import Runner
cfg = Config.fromfile({project["plain_cfg"]!r})
cfg.load_from = {exported!r}
cfg.work_dir = {str(tmp_path / 'plain')!r}
cfg.test_evaluator.outfile_prefix = {str(tmp_path / 'plain')!r}
assert 'custom_imports' not in cfg
metrics = Runner.from_cfg(cfg).test()
assert 'dhkd_det' not in sys.modules
print('metrics: ' + ', '.join(f'{{k}}={{float(v):.4f}}'
                              for k, v in metrics.items()))
'''
    plain = metrics_of(run([sys.executable, '-c', script], cwd=str(tmp_path),
                           env={'PYTHONPATH': ''}))
    assert plain == ours
    with open(tmp_path / 'ours.bbox.json') as f:
        ours_dets = json.load(f)
    with open(tmp_path / 'plain.bbox.json') as f:
        plain_dets = json.load(f)
    assert len(ours_dets) > 0
    assert plain_dets == ours_dets


def test_two_process_cpu_training(project, tmp_path):
    work = str(tmp_path / 'dist')
    out = run(['bash', 'tools/dist_train.sh', project['distill_cfg'], '2',
               '--work-dir', work, '--cfg-options', 'train_cfg.max_epochs=1',
               'train_cfg.val_interval=5',
               f'model.teacher_ckpt={project["ckpt"]}'],
              env={'PORT': str(free_port()), 'OMP_NUM_THREADS': '1'})
    assert 'loss_binary_kl_norm_aux' in out
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))
