"""Where the source checkout is: the tools and configs that the launcher,
the demos, the sweeps and the benchmarks run live beside the package in
the repository, not inside it (an editable install, ``pip install -e .``,
keeps them there)."""
import os.path as osp

#: the repository root: the folder holding dhkd_det/, configs/ and tools/
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
