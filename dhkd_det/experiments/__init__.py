"""Experiments built on the runner: the heads ablation, the demos and the
sweeps that fill a paper table.  Nothing here is imported by
``import dhkd_det``: each module is the package side of a tool."""
