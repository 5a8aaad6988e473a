"""`python tools/test.py` in a source checkout: the command `dhkd-test`
(``dhkd_det/cli/test.py``, whose docstring and ``--help`` say what it does)."""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from dhkd_det.cli.test import run  # noqa: E402

if __name__ == '__main__':
    run()
