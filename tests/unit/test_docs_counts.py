"""The run counts and the GPU-hour estimate the docs quote follow from the
sweep files: adding a method or a pair to a sweep fails here until the
docs say the new numbers."""
import os.path as osp
import re

from cls_utils import REPO
from dhkd_det.experiments.sweep import load_sweep

#: minutes per 240-epoch run on one H200 (benchmarks.md, 2026-11-28):
#: without gradient alignment (channels_last) and with it, as shipped
MIN_PLAIN, MIN_GA = 32, 50


def read(name):
    return open(osp.join(REPO, name), encoding='utf-8').read()


def paper_cells():
    return load_sweep(osp.join(REPO, 'configs', 'sweeps',
                               'cifar100_paper.py')).cells()


def test_paper_sweep_run_counts():
    runs = len(paper_cells())
    assert f'({runs} runs)' in read('configs/sweeps/cifar100_paper.py')
    assert f'seeds ({runs} runs)' in read('README.md')
    assert f'3 seeds: {runs} runs)' in read('docs/reproducing.md')


def test_paper_sweep_gpu_hours():
    cells = paper_cells()
    ga = sum(c.method == 'dhkd_ga' for c in cells)
    hours = round(((len(cells) - ga) * MIN_PLAIN + ga * MIN_GA) / 60)
    text = ' '.join(read('docs/reproducing.md').split())
    assert (f'{len(cells) - ga} runs × {MIN_PLAIN} min + {ga} `dhkd_ga` '
            f'runs × {MIN_GA} min ≈ {hours} GPU-hours') in text
    readme = ' '.join(read('README.md').split())
    assert re.search(rf'about {hours} GPU-hours', readme)


def test_digit_pairs_study_run_count():
    runs = len(load_sweep(osp.join(REPO, 'configs', 'sweeps',
                                   'digit_pairs_study.py')).cells())
    text = ' '.join(read('docs/study.md').split())
    assert f'({runs} runs)' in text
    assert re.search(rf'of {runs} runs', text)
