"""Checkpoints that do not fit, through the real tools: tools/test.py never
reports metrics of weights it did not load and tests an exported student as
the student; export_student.py overwrites nothing it should not and exports
nothing for another model; --resume of a truncated file, a text file, another
config's checkpoint or another optimizer's stops with an error naming the
file and the fix, and loses nothing; a teacher pickled as a whole model is
refused as unsafe, not as damaged."""
import json

import pytest
import torch

from cls_utils import python_tool, run_tool, save_teacher, \
    small_project

CONFIG = 'configs/dhkd/cifar100_res32x4_res8x4.py'
KD_CONFIG = 'configs/kd/cifar100_res32x4_res8x4.py'


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """A 1-epoch DHKD run: its checkpoint, config and teacher."""
    root = tmp_path_factory.mktemp('ckpt_errors')
    cfg = small_project(root, CONFIG)
    kd_cfg = small_project(root, KD_CONFIG, name='kd.py')
    # the same distiller, trained with AdamW by MMEngine's plain wrapper
    adamw_cfg = small_project(root, CONFIG, name='adamw.py', extra=(
        "optim_wrapper = dict(_delete_=True, type='OptimWrapper', "
        "optimizer=dict(type='AdamW', lr=1e-3))\n"))
    # another student architecture
    resnet20_cfg = small_project(root, CONFIG, name='resnet20.py', extra=(
        "model['student']['network']['type'] = 'resnet20'\n"))
    wd = root / 'wd'
    proc = run_tool(python_tool('train.py', cfg, '--work-dir', str(wd),
                                '--cfg-options', 'train_cfg.max_epochs=1'),
                    cwd=str(root))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(root=root, cfg=cfg, kd_cfg=kd_cfg, adamw_cfg=adamw_cfg,
                resnet20_cfg=resnet20_cfg, ckpt=wd / 'epoch_1.pth')


def assert_short_console(proc):
    console = (proc.stdout + proc.stderr).splitlines()
    assert len(console) <= 40, '\n'.join(console)
    assert 'System environment' not in proc.stdout
    log = proc.stderr.rstrip().splitlines()[-1].split(
        'the full log, with the traceback: ')[1]
    assert 'System environment' in open(log).read()


def run_test(run, ckpt, tmp_path, cfg=None):
    tmp_path.mkdir(exist_ok=True)
    out = tmp_path / 'metrics.json'
    proc = run_tool(python_tool('test.py', cfg or run['cfg'], str(ckpt),
                                '--work-dir', str(tmp_path / 'twd'),
                                '--metrics-out', str(out)), cwd=str(tmp_path))
    metrics = json.loads(out.read_text()) if out.exists() else None
    return proc, metrics


def test_teacher_checkpoint_is_not_tested_as_the_distiller(run, tmp_path):
    # a deeper teacher than the resnet8 student, saved like CRD's
    teacher = tmp_path / 'resnet20_teacher.pth'
    save_teacher(teacher, arch='resnet20')
    proc, metrics = run_test(run, teacher, tmp_path)
    assert proc.returncode != 0 and metrics is None
    assert 'metrics:' not in proc.stdout
    assert f'checkpoint {teacher} does not fit the model of {run["cfg"]}' \
        in proc.stderr, proc.stderr[-3000:]
    assert 'of its keys are not in the model' in proc.stderr  # layer*.2.*
    assert 'with the config that trained it' in proc.stderr
    # found after the runner is built: MMEngine's environment and config
    # went into the failure's log, not above the error
    assert_short_console(proc)


def test_exported_student_is_tested_as_the_student(run, tmp_path):
    full_proc, full = run_test(run, run['ckpt'], tmp_path / 'full')
    assert full_proc.returncode == 0, full_proc.stderr[-3000:]
    assert 'aux/top1' in full
    student = tmp_path / 'student.pth'
    proc = run_tool(python_tool('export_student.py', str(run['ckpt']),
                                str(student)), cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc, metrics = run_test(run, student, tmp_path / 'exported')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'without its auxiliary head' in proc.stdout + proc.stderr
    # the main head's numbers, and none of an aux head it does not have
    assert metrics == {k: v for k, v in full.items()
                       if not k.startswith('aux/')}


def test_text_file_checkpoint_is_named(run, tmp_path):
    text = tmp_path / 'epoch_9.pth'
    text.write_text('<html>404 Not Found</html>\n')
    proc, metrics = run_test(run, text, tmp_path)
    assert proc.returncode != 0 and metrics is None
    assert f'checkpoint {text} is not a PyTorch checkpoint: it starts ' \
        "with b'<html>404" in proc.stderr, proc.stderr[-3000:]


def test_export_refuses_to_overwrite(run, tmp_path):
    src = tmp_path / 'epoch_1.pth'
    src.write_bytes(run['ckpt'].read_bytes())
    before = src.read_bytes()
    proc = run_tool(python_tool('export_student.py', str(src), str(src)),
                    cwd=str(tmp_path))
    assert proc.returncode != 0
    assert f'{src} is the input checkpoint' in proc.stderr
    assert src.read_bytes() == before
    other = tmp_path / 'other.pth'
    other.write_bytes(b'keep me')
    proc = run_tool(python_tool('export_student.py', str(src), str(other)),
                    cwd=str(tmp_path))
    assert proc.returncode != 0
    assert f'{other} exists' in proc.stderr and '--force' in proc.stderr
    assert other.read_bytes() == b'keep me'
    proc = run_tool(python_tool('export_student.py', str(src), str(other),
                                '--force'), cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'fc.weight' in torch.load(other)['state_dict']
    assert src.read_bytes() == before


def resume(run, cfg, wd, ckpt=None, *options):
    args = ['--resume'] + ([str(ckpt)] if ckpt else [])
    if options:
        args += ['--cfg-options', *options]
    return run_tool(python_tool('train.py', cfg, '--work-dir', str(wd),
                                *args), cwd=str(wd.parent))


def test_resume_of_a_truncated_file_names_it(run, tmp_path):
    wd = tmp_path / 'wd'
    wd.mkdir()
    cut = wd / 'epoch_1.pth'
    data = run['ckpt'].read_bytes()
    cut.write_bytes(data[:len(data) // 2])
    proc = resume(run, run['cfg'], wd, cut)
    assert proc.returncode != 0
    assert f'--resume checkpoint {cut} is truncated' in proc.stderr, \
        proc.stderr[-3000:]
    # the same through last_checkpoint
    (wd / 'last_checkpoint').write_text(str(cut))
    proc = resume(run, run['cfg'], wd)
    assert f'--resume checkpoint (named by {wd}/last_checkpoint) {cut} is ' \
        'truncated' in proc.stderr, proc.stderr[-3000:]
    assert 'Use an earlier checkpoint' in proc.stderr


def test_resume_from_another_models_checkpoint(run, tmp_path):
    wd = tmp_path / 'wd'
    wd.mkdir()
    # the KD baseline's student has no aux head and a plain optimizer
    proc = resume(run, run['kd_cfg'], wd, run['ckpt'])
    assert proc.returncode != 0
    assert f'--resume checkpoint {run["ckpt"]} does not fit the model of ' \
        f'{run["kd_cfg"]}' in proc.stderr, proc.stderr[-3000:]
    assert 'It was written for another model' in proc.stderr
    assert 'student.aux_head' in proc.stderr
    assert f'load_from={run["ckpt"]}' in proc.stderr
    assert not list(wd.glob('*.pth'))
    assert_short_console(proc)


def test_resume_with_another_optimizer_set_up(run, tmp_path):
    wd = tmp_path / 'wd'
    wd.mkdir()
    # per-parameter options make MMEngine put each tensor in its own group
    proc = resume(run, run['cfg'], wd, run['ckpt'],
                  'optim_wrapper.paramwise_cfg.bias_decay_mult=0')
    assert proc.returncode != 0
    assert f'--resume checkpoint {run["ckpt"]}: its optimizer has ' \
        'parameter groups of [' in proc.stderr, proc.stderr[-3000:]
    assert 'paramwise_cfg' in proc.stderr
    assert run['ckpt'].is_file()


def test_resume_with_another_optimizer_type(run, tmp_path):
    wd = tmp_path / 'wd'
    wd.mkdir()
    # saved with SGD (GradAlignOptimWrapper): torch would load its state and
    # AdamW's first step fail with a bare KeyError: 'step'
    proc = resume(run, run['adamw_cfg'], wd, run['ckpt'])
    assert proc.returncode != 0
    assert f'--resume checkpoint {run["ckpt"]} was saved with SGD' in \
        proc.stderr, proc.stderr[-3000:]
    assert f'{run["adamw_cfg"]} configures AdamW (OptimWrapper)' in \
        proc.stderr
    assert 'Resume with the optimizer it was saved with' in proc.stderr
    assert f'load_from={run["ckpt"]}' in proc.stderr
    assert "KeyError: 'step'" not in proc.stderr
    assert not list(wd.glob('*.pth'))


def test_teacher_pickled_as_a_whole_model_is_refused_as_unsafe(run,
                                                                tmp_path):
    from dhkd_det.models.cifar import resnet8
    teacher = tmp_path / 'whole_model.pth'
    torch.save(resnet8(num_classes=10), teacher)
    proc = run_tool(python_tool('train.py', run['cfg'], '--work-dir',
                                str(tmp_path / 'wd'), '--cfg-options',
                                f'model.teacher_ckpt={teacher}',
                                'train_cfg.max_iters=1'), cwd=str(tmp_path))
    assert proc.returncode != 0
    assert f'teacher checkpoint (model.teacher_ckpt) {teacher} holds ' \
        'objects that are not plain weights' in proc.stderr, \
        proc.stderr[-3000:]
    assert 'it was not loaded' in proc.stderr
    assert "torch.save({'state_dict': model.state_dict()}, path)" in \
        proc.stderr
    assert 'damaged' not in proc.stderr and 're-download' not in \
        proc.stderr


def test_export_with_another_architectures_config_is_refused(run, tmp_path):
    student = tmp_path / 'student.pth'
    proc = run_tool(python_tool('export_student.py', str(run['ckpt']),
                                str(student), '--config',
                                run['resnet20_cfg']), cwd=str(tmp_path))
    assert proc.returncode != 0
    assert f'distiller checkpoint {run["ckpt"]} does not fit the model ' \
        'of its config' in proc.stderr, proc.stderr[-3000:]
    assert 'with the config that trained it' in proc.stderr
    assert not student.exists()
