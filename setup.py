import os.path as osp

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

STARTUP_HOOK = 'dhkd_det_mmcv_ops.pth'


#: where a wheel carries the configs: MMEngine reads `dhkd_det::x.py` from
#: <installed dhkd_det>/.mim/configs/x.py, as `mmdet::` from mmdet/.mim
CONFIGS_IN_PACKAGE = osp.join('dhkd_det', '.mim', 'configs')
#: MMEngine opens .mim/model-index.yml (OpenMMLab's index of released models
#: with weights) before it looks in .mim/configs: none are listed, so every
#: `dhkd_det::` name is a file under .mim/configs
MODEL_INDEX = ('# read by MMEngine for `dhkd_det::` config names: no '
               'released models\nImport: []\n')


class BuildPyWithStartupHook(build_py):
    """Also puts the configs into the package (``dhkd_det/.mim/configs``)
    and ``dhkd_det_mmcv_ops.pth`` at the top of a wheel, i.e. in
    site-packages, so that ``import mmcv.ops`` works in every process of an
    environment where mmcv has no compiled ops (see dhkd_det/ops).  An
    editable install reads the checkout's configs/ (dhkd_det/utils/paths.py)
    and gets the .pth file from tools/install.sh instead."""

    def run(self):
        super().run()
        if not getattr(self, 'editable_mode', False):
            self.copy_tree('configs',
                           osp.join(self.build_lib, CONFIGS_IN_PACKAGE))
            with open(osp.join(self.build_lib, 'dhkd_det', '.mim',
                               'model-index.yml'), 'w') as f:
                f.write(MODEL_INDEX)
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
    # the tools as commands (tools/train.py etc. call the same functions)
    entry_points={'console_scripts': [
        'dhkd-train = dhkd_det.cli.train:run',
        'dhkd-test = dhkd_det.cli.test:run',
        'dhkd-reproduce = dhkd_det.cli.reproduce:run',
        'dhkd-export = dhkd_det.cli.export:main',
    ]},
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
