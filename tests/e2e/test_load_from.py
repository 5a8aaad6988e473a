"""``load_from`` through tools/train.py: a checkpoint of another model is
refused before training (MMEngine would load what fits with a warning and
train on from the rest's random initialisation, exit status 0) unless
``--partial-load`` asks for exactly that."""
import pytest

from cls_utils import python_tool, run_tool, small_project

CONFIG = 'configs/dhkd/cifar100_res32x4_res8x4.py'
KD_CONFIG = 'configs/kd/cifar100_res32x4_res8x4.py'


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """A 1-epoch DHKD run's checkpoint (a student with an aux head) and the
    KD baseline's config (the same student without one)."""
    root = tmp_path_factory.mktemp('load_from')
    cfg = small_project(root, CONFIG)
    kd_cfg = small_project(root, KD_CONFIG, name='kd.py')
    wd = root / 'wd'
    proc = run_tool(python_tool('train.py', cfg, '--work-dir', str(wd),
                                '--cfg-options', 'train_cfg.max_epochs=1'),
                    cwd=str(root))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(root=root, kd_cfg=kd_cfg, ckpt=wd / 'epoch_1.pth')


def train(cfg, wd, load_from, *flags):
    return run_tool(python_tool(
        'train.py', cfg, '--work-dir', str(wd), *flags, '--cfg-options',
        f'load_from={load_from}', 'train_cfg.max_iters=2'),
        cwd=str(wd.parent))


def test_another_models_checkpoint_is_refused_unless_partial(run, tmp_path):
    wd = tmp_path / 'wd'
    proc = train(run['kd_cfg'], wd, run['ckpt'])
    assert proc.returncode != 0
    assert f'load_from checkpoint {run["ckpt"]} does not fit the model of ' \
        f'{run["kd_cfg"]}' in proc.stderr, proc.stderr[-3000:]
    assert 'student.aux_head' in proc.stderr  # what the KD student lacks
    assert '--partial-load' in proc.stderr
    assert not list(wd.glob('*.pth'))
    proc = train(run['kd_cfg'], wd, run['ckpt'], '--partial-load')
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert '--partial-load: loading ' in log and str(run['ckpt']) in log
    assert 'student.aux_head' in log
    assert (wd / 'iter_2.pth').is_file()


def test_checkpoint_of_which_nothing_fits_is_refused(run, tmp_path):
    # a bare resnet8 teacher: none of its keys is a distiller's
    wd = tmp_path / 'wd'
    teacher = run['root'] / 'teacher.pth'
    proc = train(run['kd_cfg'], wd, teacher, '--partial-load')
    assert proc.returncode != 0
    assert f'load_from checkpoint {teacher} does not fit' in proc.stderr, \
        proc.stderr[-3000:]
    assert 'None of its weights fit' in proc.stderr


def test_partial_load_with_resume_is_refused(run, tmp_path):
    proc = run_tool(python_tool('train.py', run['kd_cfg'], '--work-dir',
                                str(tmp_path / 'wd'), '--resume',
                                str(run['ckpt']), '--partial-load'),
                    cwd=str(tmp_path))
    assert proc.returncode != 0
    assert '--partial-load applies to load_from, not to --resume' in \
        proc.stderr, proc.stderr[-3000:]
