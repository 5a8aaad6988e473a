"""`python tools/reproduce.py` in a source checkout: the command `dhkd-reproduce`
(``dhkd_det/cli/reproduce.py``, whose docstring and ``--help`` say what it does)."""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from dhkd_det.cli.reproduce import run  # noqa: E402

if __name__ == '__main__':
    run()
