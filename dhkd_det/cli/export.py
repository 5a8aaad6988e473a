"""Export the student of a distillation checkpoint as a plain checkpoint.

Its weights without the auxiliary classifiers and the classification
wrapper prefix, loadable by the plain zoo network or MMDetection's plain
detector config (see ``dhkd_det/checkpoint/export.py``).

    python tools/export_student.py work_dirs/x/epoch_240.pth student.pth

The output is written atomically, never over the input, and over another
existing file only with ``--force``.
"""
import argparse

import dhkd_det  # noqa: E402,F401  (safe loading of MMEngine checkpoints)
from dhkd_det.checkpoint.export import export_student  # noqa: E402


def main():
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('src', help='distiller checkpoint')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--config', help='the config the checkpoint was '
                        'trained with, for a checkpoint without meta.cfg')
    parser.add_argument('--force', action='store_true',
                        help='overwrite an existing output file (never the '
                        'input)')
    args = parser.parse_args()
    count = export_student(args.src, args.dst, args.config, args.force)
    print(f'saved {count} tensors of the student to {args.dst}')


if __name__ == '__main__':
    main()
