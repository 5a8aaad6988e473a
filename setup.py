import os.path as osp

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

STARTUP_HOOK = 'dhkd_det_mmcv_ops.pth'


class BuildPyWithStartupHook(build_py):
    """Also puts ``dhkd_det_mmcv_ops.pth`` at the top of a wheel, i.e. in
    site-packages, so that ``import mmcv.ops`` works in every process of an
    environment where mmcv has no compiled ops (see dhkd_det/ops).  An
    editable install gets the file from tools/install.sh instead."""

    def run(self):
        super().run()
        if not getattr(self, 'editable_mode', False):
            # kept in the source as text: a tracked .pth reads as a
            # checkpoint, and only site-packages should run it
            self.copy_file(osp.join('dhkd_det', 'ops',
                                    'startup_hook_line.txt'),
                           osp.join(self.build_lib, STARTUP_HOOK))


setup(
    name='dhkd_det',
    version='0.1.0',
    description='Dual-Head Knowledge Distillation (DHKD) as MMEngine / '
    'MMDetection plugins',
    packages=find_packages(include=['dhkd_det', 'dhkd_det.*']),
    cmdclass={'build_py': BuildPyWithStartupHook},
    python_requires='>=3.9',
    install_requires=['torch', 'torchvision', 'mmengine>=0.10.0', 'numpy'],
    extras_require={
        # mmcv-lite is mmcv's Python package without compiled ops; the ops
        # MMDetection's Faster R-CNN and RetinaNet need are served by
        # torchvision (dhkd_det/ops).  An mmcv with compiled ops works too.
        'det': ['mmcv-lite>=2.0.0rc4,<2.2.0', 'mmdet==3.3.0', 'pycocotools'],
        'demo': ['scikit-learn', 'matplotlib'],
        # tools/reproduce.py --launcher slurm: the job array, slurm's
        # signals and requeueing (docs/reproducing.md, "Where it runs")
        'slurm': ['submitit>=1.5'],
        # live curves: MMEngine's TensorboardVisBackend, on by default in
        # our configs where this is installed (docs/diagnostics.md)
        'tensorboard': ['tensorboard'],
        'tests': ['pytest>=7'],  # pytest.ini's pythonpath
    },
)
