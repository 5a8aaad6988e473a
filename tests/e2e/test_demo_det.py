"""The offline detection demo: the digits written as a COCO detection set,
and a smoke run of the demo (dhkd_det/experiments/demo_det.py, through
tools/demo.py) end to end (tiny images and models, 1 epoch), checked
through the files it leaves."""
import json
import os.path as osp
import re

import numpy as np
import pytest

cv2 = pytest.importorskip('cv2')
pytest.importorskip('sklearn')

from cls_utils import python_tool, run_tool  # noqa: E402
from dhkd_det.datasets import digit_split, digits_as_coco  # noqa: E402

#: the brightest background digits_as_coco draws (level < 80, noise < 25)
BACKGROUND_MAX = 79 + 24


def _coco(root, split):
    with open(osp.join(root, 'annotations', f'{split}.json')) as f:
        return json.load(f)


def _write(root, seed=0, num_train=6, num_val=4):
    return digits_as_coco(str(root), num_train=num_train, num_val=num_val,
                          canvas=64, seed=seed, digit_sizes=(10, 24))


def test_digits_as_coco_is_deterministic_for_a_seed(tmp_path):
    _write(tmp_path / 'a')
    _write(tmp_path / 'b')
    _write(tmp_path / 'c', seed=1)
    _write(tmp_path / 'd', num_train=3)
    for split in ('train', 'val'):
        a = _coco(tmp_path / 'a', split)
        assert a == _coco(tmp_path / 'b', split)
        assert a != _coco(tmp_path / 'c', split)
        for image in a['images']:
            name = osp.join('images', image['file_name'])
            with open(tmp_path / 'a' / name, 'rb') as f, \
                    open(tmp_path / 'b' / name, 'rb') as g:
                assert f.read() == g.read(), name
    # the val set does not move when the training set grows or shrinks
    assert _coco(tmp_path / 'd', 'val') == _coco(tmp_path / 'a', 'val')
    assert len(_coco(tmp_path / 'd', 'train')['images']) == 3


def test_digits_as_coco_boxes_are_where_the_digits_were_drawn(tmp_path):
    summary = _write(tmp_path, num_train=12, num_val=8)
    from sklearn.datasets import load_digits
    target = load_digits().target
    train_idx, test_idx = (set(i.tolist()) for i in digit_split(0))
    for split, pool in (('train', train_idx), ('val', test_idx)):
        coco = _coco(tmp_path, split)
        assert summary[split]['images'] == len(coco['images'])
        assert summary[split]['boxes'] == len(coco['annotations'])
        assert [c['name'] for c in coco['categories']] == [
            str(d) for d in range(10)]
        for image in coco['images']:
            img = cv2.imread(str(tmp_path / 'images' / image['file_name']))
            assert img.shape == (image['height'], image['width'], 3)
            anns = [a for a in coco['annotations']
                    if a['image_id'] == image['id']]
            assert 1 <= len(anns) <= 4
            outside = np.ones(img.shape[:2], bool)
            for ann in anns:
                x, y, w, h = ann['bbox']
                assert x >= 0 and y >= 0 and w > 0 and h > 0
                assert x + w <= image['width'] and y + h <= image['height']
                assert ann['area'] == w * h and ann['iscrowd'] == 0
                # a digit of its split, labelled as scikit-learn labels it
                assert ann['digit_index'] in pool
                assert ann['category_id'] == target[ann['digit_index']] + 1
                # ink inside the box, brighter than any background
                assert img[y:y + h, x:x + w].max() > BACKGROUND_MAX, ann
                outside[y:y + h, x:x + w] = False
            # nothing but background outside the boxes: no ink was drawn
            # where no box is
            assert img[outside].max() <= BACKGROUND_MAX
    # the val digits are held-out handwriting, not training digits
    val = {a['digit_index'] for a in _coco(tmp_path, 'val')['annotations']}
    train = {a['digit_index']
             for a in _coco(tmp_path, 'train')['annotations']}
    assert val and train and not val & train


def test_digits_as_coco_rejects_bad_sizes(tmp_path):
    with pytest.raises(ValueError, match='digit_sizes'):
        digits_as_coco(str(tmp_path), canvas=32, digit_sizes=(10, 40))


# ----- the demo, end to end ------------------------------------------------

RUNS = ('teacher', 'student_alone', 'student_kd', 'student_dhkd')


@pytest.fixture(scope='module')
def smoke(tmp_path_factory):
    pytest.importorskip('mmdet')
    pytest.importorskip('mmcv.ops')
    work = tmp_path_factory.mktemp('demo_det')
    # through the README's command, which hands over to demo_det.py
    proc = run_tool(python_tool('demo.py', '--task', 'det', '--smoke',
                                '--work-dir', str(work)),
                    cwd=str(work), env_extra={'OMP_NUM_THREADS': '2'})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-4000:]
    with open(work / 'results.json') as f:
        results = json.load(f)
    return dict(work=work, out=proc.stdout, err=proc.stderr,
                results=results)


def test_demo_det_prints_the_saved_results(smoke):
    out, results = smoke['out'], smoke['results']
    assert list(results['runs']) == list(RUNS)
    for step in range(1, 5):
        assert f'[demo_det] run {step}/4: ' in out
    # the first table (the gradient table's cells hold brackets)
    table = [ln for ln in out.splitlines() if ln.startswith('| ')
             and '(' not in ln.split('|')[2]]
    for name, run in results['runs'].items():
        rows = [ln for ln in table if ln.startswith(f'| {run["label"]} ')]
        assert len(rows) == 1, (name, table)
        cells = [c.strip() for c in rows[0].strip('|').split('|')]
        assert float(cells[1]) == pytest.approx(run['bbox_mAP'], abs=5e-4)
        assert float(cells[2]) == pytest.approx(run['bbox_mAP_50'],
                                                abs=5e-4)
        assert 0 <= run['bbox_mAP'] <= run['bbox_mAP_50'] <= 1
        # ProgressHook's line for the one epoch, with the validation
        assert re.search(rf'^\[{name}\] epoch 1/1 .*coco/bbox_mAP ', out,
                         re.M), name


def test_demo_det_runs_leave_checkpoints_and_scalars(smoke):
    from dhkd_det.analysis import read_run
    from mmengine.config import Config
    for name, run in smoke['results']['runs'].items():
        assert run['work_dir'] == str(smoke['work'] / name)
        assert osp.isfile(run['checkpoint']), name
        record = read_run(run['work_dir'])
        assert record.series('train', 'loss')[1], name
        assert [r['step'] for r in record.val] == [1], name
        assert record.val[-1]['coco/bbox_mAP'] == run['bbox_mAP']
    # the students learnt from the teacher the demo trained in run 1
    teacher_ckpt = smoke['results']['runs']['teacher']['checkpoint']
    for name in ('student_kd', 'student_dhkd'):
        cfg = Config.fromfile(osp.join(smoke['work'], name,
                                       'coco_faster_rcnn_r101_r50.py'))
        assert cfg.model.teacher_ckpt == teacher_ckpt
        assert cfg.model.teacher.endswith(
            osp.join('teacher', 'faster-rcnn_r101_fpn_2x_coco.py'))
    assert smoke['results']['runs']['teacher']['checkpoint'].endswith(
        osp.join('teacher', 'epoch_1.pth'))


def test_demo_det_writes_a_valid_coco_set(smoke):
    from pycocotools.coco import COCO
    data = smoke['work'] / 'data'
    pools = dict(zip(('train', 'val'),
                     (set(i.tolist()) for i in digit_split(0))))
    for split in ('train', 'val'):
        coco = COCO(str(data / 'annotations' / f'{split}.json'))
        assert len(coco.getImgIds()) == \
            smoke['results']['data'][split]['images']
        assert sorted(coco.getCatIds()) == list(range(1, 11))
        for ann in coco.loadAnns(coco.getAnnIds()):
            image = coco.loadImgs(ann['image_id'])[0]
            assert osp.isfile(data / 'images' / image['file_name'])
            x, y, w, h = ann['bbox']
            assert 0 <= x and x + w <= image['width']
            assert 0 <= y and y + h <= image['height']
            assert ann['digit_index'] in pools[split]


def test_demo_det_figures_and_gradient_table(smoke):
    out, results = smoke['out'], smoke['results']
    figures = results['figures']
    names = {osp.basename(p) for p in figures}
    assert {'losses.png', 'accuracy.png', 'gradients.png',
            'overview.png'} <= names
    for path in figures:
        assert osp.getsize(path) > 0 and f'  {path}' in out
    grads = results['gradients']
    assert set(grads) == {'student_kd', 'student_dhkd'}
    for name, values in grads.items():
        row = [ln for ln in out.splitlines()
               if ln.startswith(f'| {results["runs"][name]["label"]} ')
               and '(' in ln.split('|')[2]]
        assert len(row) == 1, name
        # the backbone is reached by both losses in every student
        cos = values['cos_backbone']
        assert -1 <= cos <= 1 and f'{cos:+.3f} (' in row[0]
    # KD's two losses meet on the main classifier; DHKD's never do (the
    # task loss does not reach the aux head, the distillation not the
    # main), so the aux head has no column: its cosine is 0 by construction
    assert grads['student_dhkd']['cos_main_head'] == 0.0
    assert grads['student_kd']['cos_main_head'] is not None
    assert not any('aux_head' in key for values in grads.values()
                   for key in values)


def test_demo_det_names_the_configs_it_trains(smoke):
    out = smoke['out']
    assert '(mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py, 1 ' in out
    assert '(mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py, 1 ' in out
    assert '(configs/kd/coco_faster_rcnn_r101_r50.py, 1 ' in out
    assert '(configs/dhkd/coco_faster_rcnn_r101_r50.py, 1 ' in out


def test_demo_det_output_is_quiet(smoke):
    """No MMEngine log lines, pycocotools prints or library warnings: the
    progress lines and the tables only."""
    text = smoke['out'] + smoke['err']
    assert ' - mmengine - ' not in text
    for noise in ('index created!', 'Average Precision', 'Warning'):
        assert noise not in text, noise


def test_demo_det_settings():
    from dhkd_det.experiments.demo_det import DEFAULT, SMOKE, settings_for
    assert settings_for() == DEFAULT
    smoke = settings_for(smoke=True, teacher_epochs=3)
    assert smoke.teacher_epochs == 3 and smoke.epochs == SMOKE.epochs
    assert smoke.canvas == SMOKE.canvas
    with pytest.raises(ValueError, match='epochs must be >= 1, got 0'):
        settings_for(epochs=0)


def test_demo_det_rejects_bad_epochs_on_the_command_line(tmp_path):
    proc = run_tool(python_tool('demo_det.py', '--teacher-epochs', '0',
                                '--work-dir', str(tmp_path)),
                    cwd=str(tmp_path))
    assert proc.returncode == 2
    assert '--teacher-epochs must be >= 1, got 0' in proc.stderr
    assert not list(tmp_path.iterdir())  # nothing written
