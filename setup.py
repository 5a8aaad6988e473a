from setuptools import find_packages, setup

setup(
    name='dhkd_det',
    version='0.1.0',
    description='Dual-Head Knowledge Distillation (DHKD) as MMEngine / '
    'MMDetection plugins',
    packages=find_packages(include=['dhkd_det', 'dhkd_det.*']),
    python_requires='>=3.9',
    install_requires=['torch', 'torchvision', 'mmengine>=0.10.0', 'numpy'],
    extras_require={
        'det': ['mmcv>=2.0.0rc4,<2.2.0', 'mmdet==3.3.0', 'pycocotools'],
        'demo': ['scikit-learn'],
        'tests': ['pytest'],
    },
)
