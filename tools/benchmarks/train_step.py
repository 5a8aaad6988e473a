"""`python tools/benchmarks/train_step.py` in a source checkout:
``dhkd_det/benchmarks/train_step.py`` (``python -m
dhkd_det.benchmarks.train_step``), whose docstring and ``--help`` say what
it measures."""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

from dhkd_det.benchmarks.train_step import main  # noqa: E402

if __name__ == '__main__':
    main()
