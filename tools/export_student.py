"""`python tools/export_student.py` in a source checkout: the command
`dhkd-export` (``dhkd_det/cli/export.py``, whose docstring and ``--help``
say what it does)."""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from dhkd_det.cli.export import main  # noqa: E402

if __name__ == '__main__':
    main()
