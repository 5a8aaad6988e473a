"""`python tools/train.py` in a source checkout: the command `dhkd-train`
(``dhkd_det/cli/train.py``, whose docstring and ``--help`` say what it does)."""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from dhkd_det.cli.train import run  # noqa: E402

if __name__ == '__main__':
    run()
