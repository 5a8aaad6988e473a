"""Export the student of a distillation checkpoint as a plain checkpoint.

Keeps ``student.*`` weights, drops the auxiliary branch (every module whose
name contains ``aux``) and the classification wrapper prefix, so that:
- a classification student loads into the plain zoo network
  (``MODELS.build(dict(type='resnet8x4'))``) with ``strict=True``;
- a detection student loads into MMDetection's own config of the plain
  detector (Faster R-CNN, Cascade R-CNN with every stage's ``fc_cls_aux``
  dropped, RetinaNet): ``tools/test.py mmdet-config exported.pth``.

    python tools/export_student.py work_dirs/x/epoch_240.pth student.pth

The output is written atomically, never over the input, and over another
existing file only with ``--force``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

import dhkd_det  # noqa: E402,F401  (safe loading of MMEngine checkpoints)
from dhkd_det.distillers.teacher import extract_state_dict  # noqa: E402
from dhkd_det.engine.atomic_file import atomic_path  # noqa: E402
from dhkd_det.engine.checkpoint_file import read_checkpoint  # noqa: E402


def student_state_dict(state: dict) -> dict:
    if not any(k.startswith('student.') for k in state):
        raise KeyError('no `student.*` weights in the checkpoint: is it a '
                       'dhkd_det distiller checkpoint?')
    out = {}
    for key, value in state.items():
        if not key.startswith('student.'):
            continue
        key = key[len('student.'):]
        if any('aux' in part for part in key.split('.')):
            continue
        if key.startswith('network.'):  # DualHeadClassifier wrapper
            key = key[len('network.'):]
        out[key] = value
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='distiller checkpoint')
    parser.add_argument('dst', help='output path')
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
    state = student_state_dict(extract_state_dict(ckpt))
    meta = dict(ckpt.get('meta', {}), exported_from=osp.abspath(args.src))
    meta.pop('cfg', None)  # the distiller's config does not build the student
    with atomic_path(args.dst) as tmp:
        torch.save({'state_dict': state, 'meta': meta}, tmp)
    print(f'saved {len(state)} tensors of the student to {args.dst}')


if __name__ == '__main__':
    main()
