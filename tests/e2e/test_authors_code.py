"""tools/analysis/authors_dhkd.py (dhkd_det.experiments.authors_code and
authors_bootstrap) run on a stand-in of the DHKD authors' checkout: their
entry points and argument names, their data reading (torchvision's
CIFAR100 under ./data/, called with download=True as they call it; the
bootstrap refuses any download and the data are this test's own files),
their teacher loading (the
architecture from the folder name, ``torch.load(path)['model']`` loaded
strictly), their console lines.  The real checkout is not used (no
network); the stand-in's networks are dhkd_det's zoo, whose parameter
names theirs share.

Our side comes from a fake sweep folder (--ours-from): training it is the
sweep's business (tests/e2e/test_reproduce.py)."""
import json
import os
import os.path as osp
import sys

import pytest
import torch
import torchvision.datasets.cifar as tv_cifar
import torchvision.transforms
from mmengine.registry import MODELS

from cls_utils import REPO, load_tool
from dhkd_det.experiments import authors_bootstrap
from dhkd_det.experiments.authors_code import (VARIANTS, cell_config,
                                               check_authors_repo, compare,
                                               parse_log, their_run)
from dhkd_det.experiments.methods import METHODS
from dhkd_det.testing import write_random_cifar

# the flags their script must receive, by variant
COMMON = ['--epochs', '2', '--lr_decay_epochs', '1', '--lr_decay_rate',
          '0.1', '--learning_rate', '0.05', '--momentum', '0.9',
          '--weight_decay', '0.0005', '--batch_size', '50',
          '--num_workers', '0']
TEACHER = ['--path_t', 'teachers/resnet8_vanilla/ckpt_epoch_240.pth']
EXPECTED = {
    'ce': ['--model', 'resnet8'],
    'kd': ['--model_s', 'resnet8', *TEACHER, '--distill', 'kd',
           '--dual_head', '--linear', '-r', '0.1', '-a', '0.9', '--kd_T',
           '4'],
    'dhkd_linear': ['--model_s', 'resnet8', *TEACHER, '--distill', 'dhkd',
                    '--dual_head', '--linear', '-r', '1', '-a', '1',
                    '--BinaryKL_T', '2'],
    'dhkd_nonlinear_ga': ['--model_s', 'resnet8', *TEACHER, '--distill',
                          'dhkd', '--dual_head', '--nonlinear', '--ga', '-r',
                          '1', '-a', '1', '--BinaryKL_T', '2'],
}
#: every variant whose method our sweep has (dhkd_linear joins METHODS with
#: the digit-pairs study)
VARIANT_PARAMS = [pytest.param(v, marks=pytest.mark.skipif(
    VARIANTS[v].method not in METHODS,
    reason=f'no method {VARIANTS[v].method} in methods.METHODS'))
    for v in VARIANTS]
#: the variants run through the stand-in: both scripts and every flag name
#: (dhkd_linear's are kd's); the rest is the command-line test's
RUN = ['ce', 'kd', 'dhkd_nonlinear_ga']
#: our fake results: best, last top-1 by method
OURS = {'ce': (10.0, 9.0), 'kd': (12.0, 11.0), 'dhkd_linear': (13.0, 12.0),
        'dhkd_ga': (1.5, 1.0)}

# --- the stand-in checkout ------------------------------------------------

LOOPS = '''
import random
import sys

import numpy as np
import torch
import torch.nn.functional as F


def common_args(parser):
    for flag, kind in (('--epochs', int), ('--lr_decay_epochs', str),
                       ('--lr_decay_rate', float), ('--learning_rate', float),
                       ('--momentum', float), ('--weight_decay', float),
                       ('--batch_size', int), ('--num_workers', int)):
        parser.add_argument(flag, type=kind, required=True)
    parser.add_argument('-t', '--trial', required=True)


def top1(model, loader):
    model.eval()
    with torch.no_grad():
        hits = sum((model(x).argmax(1) == y).sum().item() for x, y in loader)
    return torch.tensor(100.0 * hits / len(loader.dataset))


def train(args, model, loaders, teacher=None):
    print('received:', ' '.join(sys.argv[1:]))
    print('draws:', random.random(), np.random.rand(), torch.rand(1).item())
    train_loader, test_loader = loaders
    if teacher is not None:
        print('teacher accuracy: ', top1(teacher, test_loader))
    opt = torch.optim.SGD(model.parameters(), lr=args.learning_rate,
                          momentum=args.momentum,
                          weight_decay=args.weight_decay)
    best = 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        for x, y in train_loader:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        print(' * Acc@1 99.000 Acc@5 99.000')  # the training loop's line
        print(f'epoch {epoch}, total time 0.00')
        acc = top1(model, test_loader)
        print(f' * Acc@1 {acc:.3f} Acc@5 0.000')
        best = max(best, acc)
    print('best accuracy:', best)
'''
CIFAR = '''
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


def get_cifar100_dataloaders(batch_size, num_workers):
    train_transform = transforms.Compose([
        transforms.RandomCrop(32, padding=4),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize((0.5071, 0.4867, 0.4408),
                             (0.2675, 0.2565, 0.2761))])
    print('train transform:', train_transform)
    test_transform = transforms.Compose(train_transform.transforms[2:])
    # their call, kept as it is: the harness's bootstrap turns torchvision's
    # download into an error and links the test's own files under ./data/
    # (test_torchvision_reads_our_cifar_files_offline), so nothing is fetched
    train_set = datasets.CIFAR100(root='./data/', download=True, train=True,
                                  transform=train_transform)
    test_set = datasets.CIFAR100(root='./data/', download=True, train=False,
                                 transform=test_transform)
    return (DataLoader(train_set, batch_size, shuffle=True,
                       num_workers=num_workers),
            DataLoader(test_set, batch_size, num_workers=num_workers))
'''
# their dataset/imagenet.py imports DALI at import time
IMAGENET = '''
import nvidia.dali.fn as fn  # noqa: F401
import nvidia.dali.types as types  # noqa: F401
from nvidia.dali.pipeline import pipeline_def
from nvidia.dali.plugin.pytorch import (DALIClassificationIterator,  # noqa
                                        LastBatchPolicy)


@pipeline_def
def create_dali_pipeline(data_dir):
    pass
'''
MODELS_INIT = '''
import sys

# the CIFAR zoo is all the stand-in needs: dhkd_det without its detection
# half (mmdet) imports in a few seconds less, in every run
sys.modules.setdefault('mmdet', None)
from mmengine.registry import MODELS  # noqa: E402

import dhkd_det  # noqa: E402,F401  (registers the zoo)


def network(name):
    return MODELS.build(dict(type=name, num_classes=100))
'''
STUDENT = '''
import argparse
import os
import sys

import tensorboard_logger  # noqa: F401
import torch

parser = argparse.ArgumentParser()
parser.add_argument('--model_s', required=True)
parser.add_argument('--path_t', required=True)
parser.add_argument('--distill', choices=['kd', 'dhkd'], required=True)
parser.add_argument('--dual_head', dest='aux_classifier', action='store_true')
parser.add_argument('--single_head', dest='aux_classifier',
                    action='store_false')
parser.add_argument('--linear', dest='aux_classifier_linear',
                    action='store_true')
parser.add_argument('--nonlinear', dest='aux_classifier_linear',
                    action='store_false')
parser.add_argument('--ga', action='store_true')
parser.add_argument('-r', '--gamma', type=float, required=True)
parser.add_argument('-a', '--alpha', type=float, required=True)
parser.add_argument('--kd_T', type=float, default=4)
parser.add_argument('--BinaryKL_T', type=float, default=2)
from helper.loops import common_args, train  # noqa: E402
common_args(parser)
args = parser.parse_args()

from dataset.cifar100 import get_cifar100_dataloaders  # noqa: E402
from models import network  # noqa: E402

# as theirs: the architecture is the folder name's part before '_'
teacher = network(args.path_t.split('/')[-2].split('_')[0])
teacher.load_state_dict(torch.load(args.path_t)['model'])  # strict
train(args, network(args.model_s),
      get_cifar100_dataloaders(args.batch_size, args.num_workers), teacher)
if args.trial == os.environ.get('STANDIN_FAIL_TRIAL'):
    sys.exit('stand-in: failing as asked, after training')
'''
TEACHER_LOOP = '''
import argparse

import tensorboard_logger  # noqa: F401

from dataset.cifar100 import get_cifar100_dataloaders
from dataset.imagenet import create_dali_pipeline  # noqa: F401
from helper.loops import common_args, train
from models import network

parser = argparse.ArgumentParser()
parser.add_argument('--model', required=True)
common_args(parser)
args = parser.parse_args()
train(args, network(args.model),
      get_cifar100_dataloaders(args.batch_size, args.num_workers))
'''
STANDIN = {'train_student.py': STUDENT, 'train_teacher.py': TEACHER_LOOP,
           'dataset/cifar100.py': CIFAR, 'dataset/imagenet.py': IMAGENET,
           'helper/loops.py': LOOPS, 'models/__init__.py': MODELS_INIT}


def write_standin(root):
    for name, text in STANDIN.items():
        path = osp.join(root, name)
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)
    return str(root)


# --- our side of the project ---------------------------------------------

def write_config(path, data_root, teacher_ckpt):
    with open(path, 'w') as f:
        f.write(f'''
_base_ = {osp.join(REPO, 'configs/dhkd/cifar100_res56_res20.py')!r}
model = dict(student=dict(network=dict(type='resnet8')),
             teacher=dict(type='resnet8'), teacher_ckpt={teacher_ckpt!r},
             data_preprocessor=dict(flip=False))
_data = dict(batch_size=50, num_workers=0, persistent_workers=False,
             dataset=dict(data_root={data_root!r}, check_md5=False))
train_dataloader = _data
val_dataloader = _data
test_dataloader = _data
train_cfg = dict(max_epochs=2)
param_scheduler = dict(milestones=[1])
''')
    return str(path)


def save_our_teacher(path):
    """A teacher as tools/train.py saves a ClsDistiller: the network under
    ``student.network.``, beside weights of other parts (an aux head, the
    distiller's own teacher) that are not the network's."""
    torch.manual_seed(0)
    net = MODELS.build(dict(type='resnet8', num_classes=100))
    state = {f'student.network.{k}': v for k, v in net.state_dict().items()}
    state['student.aux_head.weight'] = torch.zeros(100, 64)
    state['teacher.fc.weight'] = torch.zeros(100, 64)
    torch.save({'state_dict': state, 'meta': {'epoch': 240}}, path)
    return net


def write_ours(root, seeds=(0, 1)):
    for method, (best, last) in OURS.items():
        for seed in seeds:
            folder = osp.join(root, 'tiny', method, f'seed_{seed}')
            os.makedirs(folder)
            with open(osp.join(folder, 'results.json'), 'w') as f:
                json.dump(dict(best_top1=best + seed, last_top1=last), f)
    return str(root)


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp('authors')
    write_random_cifar(str(root / 'data'), num_classes=100, n_train=200,
                       n_test=100)
    teacher = save_our_teacher(str(root / 'teacher.pth'))
    return dict(
        root=root, repo=write_standin(root / 'DHKD'), teacher=teacher,
        config=write_config(root / 'cifar100_tiny.py', str(root / 'data'),
                            str(root / 'teacher.pth')),
        ours=write_ours(root / 'sweep'))


def run_cli(*args):
    tool = load_tool('analysis/authors_dhkd')
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, 'argv', ['authors_dhkd.py', *args])
        tool.main()


@pytest.fixture(scope='module')
def first_run(project):
    """The command line, the variants of ``RUN``, seed 0, two runs side by
    side (``--cpu-runs 2``)."""
    out = str(project['root'] / 'out')
    run_cli('--authors-repo', project['repo'], '--config', project['config'],
            '--seeds', '0', '--out', out, '--variants', *RUN,
            '--ours-from', project['ours'], '--cpu-runs', '2')
    return out


def run_dir(out, variant, seed=0):
    return osp.join(out, 'theirs', variant, f'seed_{seed}')


def read(path):
    with open(path) as f:
        return json.load(f) if path.endswith('.json') else f.read()


# --- their command lines, without running them ----------------------------

@pytest.mark.parametrize('variant', VARIANT_PARAMS)
@pytest.mark.parametrize('flip', [False, True])
def test_their_command_line(project, variant, flip):
    options = {'model.data_preprocessor.flip': flip}
    cfg = cell_config(project['config'], VARIANTS[variant].method, 'tiny', 3,
                      options)
    command = their_run(cfg, variant).command(project['repo'], 3)
    split = command.index('--')
    assert command[split + 1:] == EXPECTED[variant] + COMMON + ['-t', '3']
    assert ('--no-flip' in command[:split]) == (not flip)
    assert command[command.index('--seed') + 1] == '3'
    assert command[command.index('--script') + 1] == (
        'train_teacher.py' if variant == 'ce' else 'train_student.py')


def test_their_student_learning_rate_undone(project):
    """Their train_student.py multiplies the learning rate of MobileNetV2
    and the ShuffleNets by 0.2: the harness passes ours / 0.2."""
    cfg = cell_config(project['config'], 'kd', 'tiny', 0, {
        'model.student.network.type': 'ShuffleV1',
        'optim_wrapper.optimizer.lr': 0.01})
    args = their_run(cfg, 'kd').args
    assert args[args.index('--learning_rate') + 1] == '0.05'
    with pytest.raises(ValueError, match='train_teacher.py trains ShuffleV1 '
                       'at 0.01'):
        their_run(cell_config(project['config'], 'ce', 'tiny', 0, {
            'model.student.network.type': 'ShuffleV1'}), 'ce')


def test_what_their_code_cannot_run_is_refused(project, tmp_path):
    config = project['config']

    def run(variant='kd', **options):
        their_run(cell_config(config, VARIANTS[variant].method, 'tiny', 0,
                              options), variant)

    with pytest.raises(ValueError, match=r"model.student.network.num_classes "
                       r"is 10: their scripts hard-code CIFAR-100's 100"):
        run(**{'model.student.network.num_classes': 10})
    with pytest.raises(ValueError, match='model.data_preprocessor.pad_crop'):
        run(**{'model.data_preprocessor.pad_crop': 2})
    with pytest.raises(ValueError, match='optim_wrapper.optimizer'):
        run(**{'optim_wrapper.optimizer.nesterov': True})
    with pytest.raises(ValueError, match=r"aux head linear \(model.student"
                       r".aux_head\)"):
        run('dhkd_nonlinear_ga', **{'model.student.aux_head': 'linear'})
    with pytest.raises(FileNotFoundError, match='train_dataloader.dataset.'
                       'data_root .* is not a folder'):
        run(**{'train_dataloader.dataset.data_root': str(tmp_path / 'no')})
    os.makedirs(tmp_path / 'empty')
    with pytest.raises(FileNotFoundError, match='cifar-100-python/train '
                       'not found'):
        run(**{'train_dataloader.dataset.data_root': str(tmp_path / 'empty')})


def test_inputs_checked_first(project, tmp_path):
    def go(**kwargs):
        args = dict(authors_repo=project['repo'], config=project['config'],
                    out=str(tmp_path / 'out'), seeds=[0], variants=['kd'],
                    ours_from=project['ours'])
        args.update(kwargs)
        compare(**args)

    with pytest.raises(FileNotFoundError, match='is not a folder'):
        check_authors_repo(str(tmp_path / 'nowhere'))
    partial = tmp_path / 'partial'
    write_standin(partial)
    os.remove(partial / 'dataset' / 'cifar100.py')
    with pytest.raises(FileNotFoundError, match='has no dataset/cifar100.py'):
        go(authors_repo=str(partial))
    with pytest.raises(FileNotFoundError, match="teacher checkpoint '.*no"
                       ".pth' not found: give --teacher-ckpt"):
        go(teacher_ckpt=str(tmp_path / 'no.pth'))
    with pytest.raises(FileNotFoundError, match=r"no folder other/ of the "
                       r"pair \(it holds \['tiny'\]\)"):
        go(pair='other')
    assert not (tmp_path / 'out').exists()


def test_torchvision_reads_our_cifar_files_offline(project, tmp_path,
                                                   monkeypatch):
    """Bootstrap adaptations 4 and 5, in this process (undone after)."""
    for name in ('check_integrity', 'download_and_extract_archive',
                 'pickle'):
        monkeypatch.setattr(tv_cifar, name, getattr(tv_cifar, name))
    monkeypatch.setattr(torchvision.transforms, 'RandomHorizontalFlip',
                        torchvision.transforms.RandomHorizontalFlip)
    root = str(project['root'] / 'data')
    with pytest.raises(RuntimeError):  # our files are not the official ones
        tv_cifar.CIFAR100(root, train=False)
    authors_bootstrap.accept_our_cifar_files()
    test = tv_cifar.CIFAR100(root, train=False, download=True)
    assert len(test) == 100 and sorted(set(test.targets)) == list(range(100))
    with pytest.raises(FileNotFoundError, match='never downloads'):
        tv_cifar.CIFAR100(str(tmp_path), download=True)
    authors_bootstrap.remove_flip()
    image = test[0][0]
    assert torchvision.transforms.RandomHorizontalFlip()(image) is image


def test_their_console_parsed():
    """Their lines as their code prints them, on a GPU too: the training
    loop's ``* Acc@1`` comes before ``epoch N``, the test's after it."""
    log = '\n'.join([
        ' * Acc@1 3.125 Acc@5 9.375', "teacher accuracy:  tensor(71.2300, "
        "device='cuda:0')", '==> training...', ' * Acc@1 50.000 Acc@5 80.0',
        'epoch 1, total time 2.38', 'Test: [0/4]\tAcc@1 0.000 (0.000)',
        ' * Acc@1 40.120 Acc@5 70.000', 'saving the best model!',
        ' * Acc@1 60.000 Acc@5 90.000', 'epoch 2, total time 2.30',
        ' * Acc@1 39.500 Acc@5 70.000',
        "best accuracy: tensor(40.1200, device='cuda:0')"])
    assert parse_log(log) == dict(top1=[40.12, 39.5], best=40.12,
                                  teacher=71.23)
    assert parse_log('best accuracy: 0') == dict(top1=[], best=0.0,
                                                 teacher=None)


# --- their runs ----------------------------------------------------------

@pytest.mark.parametrize('variant', RUN)
def test_their_run(first_run, project, variant):
    folder = run_dir(first_run, variant)
    log = read(osp.join(folder, 'stdout.log'))
    results = read(osp.join(folder, 'results.json'))
    # the flags reached their script as the harness built them
    assert f'received: {" ".join(EXPECTED[variant] + COMMON)} -t 0\n' in log
    assert results['command'][-len(COMMON) - 2:] == COMMON + ['-t', '0']
    # our files read offline, without their flip
    assert osp.realpath(osp.join(folder, 'data')) == osp.realpath(
        project['root'] / 'data')
    assert 'NoFlip()' in log and 'RandomHorizontalFlip' not in log
    # their console parsed: the test accuracy after each epoch, not the
    # training loop's 99.000
    assert results['epochs'] == 2 and len(results['top1']) == 2
    assert 99.0 not in results['top1']
    assert results['last_top1'] == results['top1'][-1]
    assert '\nbest accuracy: ' in log
    assert abs(results['best_top1'] - max(results['top1'])) < 1e-3
    assert results['seed'] == 0 and results['flip'] is False


@pytest.mark.parametrize('variant', [v for v in RUN if v != 'ce'])
def test_their_teacher_is_ours(first_run, project, variant):
    """Our distiller checkpoint, converted: their layout, the plain
    network's keys and weights, which the stand-in loaded strictly."""
    folder = run_dir(first_run, variant)
    saved = torch.load(osp.join(
        folder, 'teachers/resnet8_vanilla/ckpt_epoch_240.pth'))
    expected = project['teacher'].state_dict()
    assert list(saved) == ['model'] and saved['model'].keys() == \
        expected.keys()
    assert all(torch.equal(saved['model'][k], v) for k, v in
               expected.items())
    assert read(osp.join(folder, 'results.json'))['teacher_top1'] is not None


def test_table(first_run):
    theirs = {v: read(osp.join(run_dir(first_run, v), 'results.json'))
              for v in RUN}
    markdown = read(osp.join(first_run, 'authors_vs_ours.md'))
    lines = markdown.splitlines()
    assert lines[0] == ('| variant | our method | seeds | ours best | theirs '
                        'best | Δ best | ours last | theirs last |')
    for variant in RUN:
        best, last = OURS[VARIANTS[variant].method]
        diff = best - theirs[variant]['best_top1']
        row = next(line for line in lines if line.startswith(
            f'| {variant} |'))
        assert f'| 1 / 1 of 1 | {best:.2f} | ' in row
        assert f'| {diff:+.2f}{" (flagged)" if abs(diff) > 1 else ""} |' \
            in row
        assert row.endswith(
            f'| {last:.2f} | {theirs[variant]["last_top1"]:.2f} |')
    assert 'The teacher by their validate:' in markdown
    csv = read(osp.join(first_run, 'authors_vs_ours.csv')).splitlines()
    assert csv[0].startswith('variant,method,seeds,ours_seeds,theirs_seeds,'
                             'ours_best_mean,')
    assert len(csv) == 1 + len(RUN)


def test_rerun_skips_finished_runs(first_run, project):
    logs = [osp.join(run_dir(first_run, v), 'stdout.log') for v in RUN]
    before = [os.stat(p).st_mtime_ns for p in logs]
    said = []
    result = compare(project['repo'], project['config'], first_run, [0],
                     RUN, ours_from=project['ours'], say=said.append)
    assert said == [f'[theirs] {v} seed 0: skipped' for v in RUN]
    assert [os.stat(p).st_mtime_ns for p in logs] == before
    assert result['failed'] == []


def test_seeds_and_retry(first_run, project, tmp_path, monkeypatch):
    """A failed run is reported with its log's tail and run again by the
    next call; one seed gives one run (the failed attempt, which trained to
    the end, and the retry), another seed another."""
    out = str(tmp_path / 'out')
    said = []

    def kd_seed_1():
        return compare(project['repo'], project['config'], out, [1], ['kd'],
                       ours_from=project['ours'], say=said.append)

    monkeypatch.setenv('STANDIN_FAIL_TRIAL', '1')
    assert kd_seed_1()['failed'] == ['theirs kd seed 1']
    assert 'stand-in: failing as asked' in '\n'.join(said)
    failed = read(osp.join(run_dir(out, 'kd', 1), 'failed.json'))
    assert failed['returncode'] == 1
    monkeypatch.delenv('STANDIN_FAIL_TRIAL')
    said.clear()
    result = kd_seed_1()
    assert said[0].startswith('[theirs] kd seed 1: done in ')
    assert result['failed'] == []
    assert not osp.exists(osp.join(run_dir(out, 'kd', 1), 'failed.json'))
    assert '| kd | kd | 1 / 1 of 1 | 13.00 |' in result['markdown']

    def draws(log):
        return next(line for line in log.splitlines()
                    if line.startswith('draws:'))

    retried = read(osp.join(run_dir(out, 'kd', 1), 'stdout.log'))
    seed_0 = read(osp.join(run_dir(first_run, 'kd'), 'stdout.log'))
    assert draws(failed['tail']) == draws(retried) != draws(seed_0)
    assert parse_log(failed['tail'])['top1'] == parse_log(retried)['top1']
