"""Runs one training script of the DHKD authors' CIFAR code
(github.com/penghui-yang/DHKD) unchanged, offline, on our data: the child
process of each of their runs that ``authors_code`` starts, with the run
folder as working directory.

    python dhkd_det/experiments/authors_bootstrap.py --repo /path/to/DHKD \
        --script train_student.py --seed 0 [--no-flip] -- THEIR ARGUMENTS

It is run as a file, not with ``python -m``, so that their process imports
nothing of dhkd_det (nor mmengine, nor our registries): their code runs
beside the standard library, torch, torchvision and the adaptations below,
and nothing else of ours.  This module imports no other part of the
package, for the same reason.

The adaptations are the least that lets their files run as they are
published, here; each one says why:

1. ``seed_everything``: python's, numpy's and torch's generators seeded
   with the run's seed before their script starts.  They never seed, so
   two of their runs differ in the initial weights, the data order and the
   augmentation; seeded, a seed names one run as our ``randomness.seed``
   does (on the CPU exactly; on a GPU their ``cudnn.benchmark = True``
   still picks kernels at run time).
2. ``stub_tensorboard_logger``: a ``tensorboard_logger`` whose logger
   drops the values, where the package is not installed (it is no
   dependency of ours).  Their scripts import it and log their curves
   through it every epoch; the comparison reads their printed accuracies.
3. ``stub_dali``: empty ``nvidia.dali`` modules where DALI is not
   installed.  ``train_teacher.py`` (their CE loop) imports
   ``dataset/imagenet.py``, which imports DALI at import time and uses it
   only to read ImageNet; a DALI call raises.
4. ``accept_our_cifar_files``: in ``torchvision.datasets.cifar``, the md5
   check of the CIFAR-100 files accepts any file present and its download
   raises instead of fetching.  Their ``dataset/cifar100.py`` reads
   ``CIFAR100(root='./data/', download=True)``; our data sets in
   CIFAR-100's layout (``write_cifar``, whose pickles read as the official
   ones do) are not the official files, so the check would fail and
   torchvision would download the real CIFAR-100 over them.
5. ``remove_flip`` (``--no-flip``, when our config has
   ``model.data_preprocessor.flip=False``): torchvision's
   ``RandomHorizontalFlip`` becomes ``NoFlip``, which returns the image as
   it is.  Their train transform always flips half the images; on data
   where a mirror image is another class (a mirrored digit is not a digit)
   our runs do not, and theirs must not either.

Then ``sys.argv`` is set to their script and arguments, their checkout goes
first on ``sys.path`` (as ``python train_student.py`` in their folder puts
it) and ``runpy.run_path`` runs the script as ``__main__``.
"""
import argparse
import os
import os.path as osp
import random
import runpy
import sys
import types
from typing import List, Optional, Tuple


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # every CUDA device's generator too


def _installed(name: str) -> bool:
    from importlib.util import find_spec
    try:
        return find_spec(name) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def _stub_module(name: str, **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    parent, _, child = name.rpartition('.')
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return module


class _NullLogger:
    """tensorboard_logger.Logger without TensorBoard: the values go
    nowhere."""

    def __init__(self, logdir: str, flush_secs: int = 2):
        self.logdir = logdir

    def log_value(self, name: str, value, step: Optional[int] = None):
        pass


def stub_tensorboard_logger() -> None:
    if not _installed('tensorboard_logger'):
        _stub_module('tensorboard_logger', Logger=_NullLogger)


def _no_dali(what: str):
    def unavailable(*args, **kwargs):
        raise RuntimeError(
            f'{what}: nvidia.dali is not installed (authors_bootstrap stubs '
            'it so that train_teacher.py imports; only their ImageNet loader '
            'uses it). Install nvidia-dali to run their ImageNet path.')
    return unavailable


def stub_dali() -> None:
    """The modules and names their ``dataset/imagenet.py`` imports from
    DALI; ``pipeline_def`` decorates at import time, so it returns a
    function that raises when called."""
    if _installed('nvidia.dali'):
        return
    if not _installed('nvidia'):
        _stub_module('nvidia', __path__=[])
    _stub_module('nvidia.dali', __path__=[])
    _stub_module('nvidia.dali.plugin', __path__=[])
    _stub_module('nvidia.dali.plugin.pytorch',
                 DALIClassificationIterator=_no_dali(
                     'DALIClassificationIterator'),
                 LastBatchPolicy=types.SimpleNamespace(PARTIAL=None))
    _stub_module('nvidia.dali.pipeline',
                 pipeline_def=lambda fn: _no_dali(fn.__name__))
    _stub_module('nvidia.dali.types')
    _stub_module('nvidia.dali.fn')


def _file_present(fpath: str, md5: Optional[str] = None) -> bool:
    return osp.isfile(fpath)


def _no_download(url: str, download_root: str, *args, **kwargs):
    raise FileNotFoundError(
        f'the CIFAR-100 files are not all in {osp.abspath(download_root)}/'
        'cifar-100-python/ (train, test, meta), and the authors\' code was '
        f'about to download them from {url}: authors_bootstrap never '
        "downloads. Point the run's data link at a folder holding "
        'cifar-100-python/ (train_dataloader.dataset.data_root).')


def accept_our_cifar_files() -> None:
    import torchvision.datasets.cifar as cifar
    cifar.check_integrity = _file_present
    cifar.download_and_extract_archive = _no_download


class NoFlip:
    """Stands in for ``RandomHorizontalFlip`` (``--no-flip``): returns the
    image as it is."""

    def __init__(self, p: float = 0.5):
        pass

    def __call__(self, img):
        return img

    def __repr__(self) -> str:
        return 'NoFlip()'


def remove_flip() -> None:
    import torchvision.transforms
    torchvision.transforms.RandomHorizontalFlip = NoFlip


def parse_args(argv: List[str]) -> Tuple[argparse.Namespace, List[str]]:
    """(our options, their script's arguments: everything after ``--``)."""
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--repo', required=True,
                        help="the authors' checkout")
    parser.add_argument('--script', required=True,
                        help='their script, relative to --repo')
    parser.add_argument('--seed', type=int, required=True)
    parser.add_argument('--no-flip', action='store_true',
                        help='remove their RandomHorizontalFlip')
    split = argv.index('--') if '--' in argv else len(argv)
    return parser.parse_args(argv[:split]), argv[split + 1:]


def main(argv: Optional[List[str]] = None) -> None:
    args, their_args = parse_args(sys.argv[1:] if argv is None else argv)
    repo = osp.abspath(args.repo)
    script = osp.join(repo, args.script)
    stub_tensorboard_logger()
    stub_dali()
    accept_our_cifar_files()
    if args.no_flip:
        remove_flip()
    # `python dhkd_det/experiments/authors_bootstrap.py` put this folder
    # first; `python train_student.py` in their checkout puts theirs there
    sys.path[0] = repo
    sys.argv = [script] + their_args
    print(f'authors_bootstrap: {args.script} seed {args.seed}, flip '
          f'{"removed" if args.no_flip else "kept"}, cwd {os.getcwd()}',
          flush=True)
    seed_everything(args.seed)
    runpy.run_path(script, run_name='__main__')


if __name__ == '__main__':
    main()
