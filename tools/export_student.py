"""Export the student of a distillation checkpoint as a plain checkpoint.

Keeps ``student.*`` weights, drops the auxiliary classifiers and the
classification wrapper prefix, so that:
- a classification student loads into the plain zoo network
  (``MODELS.build(dict(type='resnet8x4'))``) with ``strict=True``;
- a detection student loads into MMDetection's own config of the plain
  detector (Faster R-CNN, Cascade R-CNN with every stage's ``fc_cls_aux``
  dropped, RetinaNet): ``tools/test.py mmdet-config exported.pth``.

Which weights are auxiliary the model says (``aux_module_names()`` of its
dual heads), not their names: the model is built from the config the
checkpoint was saved with (MMEngine keeps it in ``meta.cfg``), or from
``--config`` for a checkpoint without one.

    python tools/export_student.py work_dirs/x/epoch_240.pth student.pth

The output is written atomically, never over the input, and over another
existing file only with ``--force``.
"""
import argparse
import os.path as osp
import sys
from typing import Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import MODELS, DefaultScope  # noqa: E402
from mmengine.utils import import_modules_from_strings  # noqa: E402

import dhkd_det  # noqa: E402,F401  (safe loading of MMEngine checkpoints)
from dhkd_det.distillers.teacher import extract_state_dict  # noqa: E402
from dhkd_det.checkpoint.atomic_file import atomic_path  # noqa: E402
from dhkd_det.checkpoint.read import read_checkpoint  # noqa: E402
from dhkd_det.models import plain_student_state  # noqa: E402


def build_model(cfg: Config) -> torch.nn.Module:
    """The model of ``cfg``, as the runner builds it (custom imports,
    default scope); the teacher's checkpoint is not read."""
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        return MODELS.build(cfg.model)


def export_state(ckpt: dict, config: Optional[str] = None) -> dict:
    """The plain student's state dict of checkpoint ``ckpt``, whose model is
    built from ``config`` (a path) or else from the checkpoint's
    ``meta.cfg``."""
    if config is not None:
        cfg = Config.fromfile(config)
    elif ckpt.get('meta', {}).get('cfg'):
        cfg = Config.fromstring(ckpt['meta']['cfg'], '.py')
    else:
        raise KeyError(
            'the checkpoint holds no config (meta.cfg, which MMEngine saves '
            'with each checkpoint): pass the config it was trained with as '
            '--config, so that its model can say which weights are '
            'auxiliary')
    return plain_student_state(extract_state_dict(ckpt), build_model(cfg))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='distiller checkpoint')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--config', help='the config the checkpoint was '
                        'trained with, for a checkpoint without meta.cfg')
    parser.add_argument('--force', action='store_true',
                        help='overwrite an existing output file (never the '
                        'input)')
    args = parser.parse_args()
    if osp.exists(args.dst):
        if osp.exists(args.src) and osp.samefile(args.src, args.dst):
            raise FileExistsError(
                f'{args.dst} is the input checkpoint: exporting over it '
                'would replace the distiller checkpoint (its aux head, '
                'optimizer state and schedule). Give another output path.')
        if not args.force:
            raise FileExistsError(
                f'{args.dst} exists: give another output path, or add '
                '--force to overwrite it')
    ckpt = read_checkpoint(args.src, 'distiller checkpoint')
    state = export_state(ckpt, args.config)
    meta = dict(ckpt.get('meta', {}), exported_from=osp.abspath(args.src))
    meta.pop('cfg', None)  # the distiller's config does not build the student
    with atomic_path(args.dst) as tmp:
        torch.save({'state_dict': state, 'meta': meta}, tmp)
    print(f'saved {len(state)} tensors of the student to {args.dst}')


if __name__ == '__main__':
    main()
