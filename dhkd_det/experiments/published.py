"""Published CIFAR-100 top-1 (%) to compare a sweep's cells with, each with
its source: only numbers printed in the sources named here (a cell with no
published number shows '-').  Keys are the pair names of ``configs/dhkd/``
(``cifar100_<pair>.py``) and the method names of ``methods.METHODS``.

The DHKD paper's own table is not among the sources: the reference code's
README prints no numbers.
"""
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

SOURCES = {
    'crd': 'HobbitLong/RepDistiller README, "Benchmark Results on '
           'CIFAR-100", the student of row "Teacher / Student" (trained '
           'alone)',
    'mdistiller': 'megvii-research/mdistiller README, "Decoupled Knowledge '
                  'Distillation", "Main Benchmark Results", On CIFAR-100',
    'ls': 'sunshangquan/logit-standardization-KD README, "Results and '
          'Logs", row "KD+Ours"',
    'dist': 'hunto/DIST_KD README, "CIFAR-100", column "DIST" (mean ± std '
            'as printed there)',
}


@dataclass(frozen=True)
class Published:
    top1: float
    source: str          # a key of SOURCES
    spread: Optional[float] = None  # the ± printed beside it, if any


#: the ten pairs of configs/dhkd/, in the order of mdistiller's tables
PAIRS = ('res56_res20', 'res110_res32', 'res32x4_res8x4', 'wrn40_2_wrn16_2',
         'wrn40_2_wrn40_1', 'vgg13_vgg8', 'res32x4_shufflev1',
         'wrn40_2_shufflev1', 'vgg13_mv2', 'res50_mv2')

_CE = dict(zip(PAIRS, (69.06, 71.14, 72.50, 73.26, 71.98, 70.36, 70.50,
                       70.50, 64.60, 64.60)))
_KD = dict(zip(PAIRS, (70.66, 73.08, 73.33, 74.92, 73.54, 72.98, 74.07,
                       74.83, 67.37, 67.35)))
_DKD = dict(zip(PAIRS, (71.97, 74.11, 76.32, 76.23, 74.81, 74.68, 76.45,
                        76.70, 69.71, 70.35)))
# the LS README has no ShuffleNet-V1 student
_KD_LS = {'res56_res20': 71.43, 'res110_res32': 74.17,
          'res32x4_res8x4': 76.62, 'wrn40_2_wrn16_2': 76.11,
          'wrn40_2_wrn40_1': 74.37, 'vgg13_vgg8': 74.36, 'vgg13_mv2': 68.61,
          'res50_mv2': 69.02}
# the DIST README covers five of the ten pairs
_DIST = {'wrn40_2_wrn40_1': (74.43, 0.24), 'res56_res20': (71.75, 0.30),
         'res32x4_res8x4': (76.31, 0.19), 'res50_mv2': (68.66, 0.23),
         'res32x4_shufflev1': (76.34, 0.18)}

PUBLISHED: Dict[Tuple[str, str], Published] = {
    **{(p, 'ce'): Published(v, 'crd') for p, v in _CE.items()},
    **{(p, 'kd'): Published(v, 'mdistiller') for p, v in _KD.items()},
    **{(p, 'dkd'): Published(v, 'mdistiller') for p, v in _DKD.items()},
    **{(p, 'kd_ls'): Published(v, 'ls') for p, v in _KD_LS.items()},
    **{(p, 'dist'): Published(v, 'dist', s) for p, (v, s) in _DIST.items()},
}


def published(pair: str, method: str) -> Optional[Published]:
    return PUBLISHED.get((pair, method))
