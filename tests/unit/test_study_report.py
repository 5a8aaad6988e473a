"""The study report leaves a gradient cosine blank where one of the two
losses never reached the parameter group (CE alone, DHKD's main head):
a mean of zeros would read as "orthogonal gradients"."""
from dhkd_det.analysis.runs import Run
from dhkd_det.experiments.study_report import _blank_one_sided


def run(cos_head, cos_backbone):
    return Run(work_dir='w', val=[], train=[
        {'iter': i + 1, 'grad/cos_main_head': h, 'grad/cos_backbone': b}
        for i, (h, b) in enumerate(zip(cos_head, cos_backbone))])


def test_zero_cosines_everywhere_are_blank_others_kept():
    row = dict(cos_main_head='0.00 ± 0.00', conflict_main_head='0.00 ± 0.00',
               cos_backbone='0.21 ± 0.02', conflict_backbone='0.03 ± 0.01')
    _blank_one_sided(row, [run([0.0, 0.0], [0.2, 0.3]),
                           run([0.0, 0.0], [0.1, 0.0])])
    assert row == dict(cos_main_head='-', conflict_main_head='-',
                       cos_backbone='0.21 ± 0.02',
                       conflict_backbone='0.03 ± 0.01')


def test_a_measured_cosine_of_zero_in_one_step_is_kept():
    row = dict(cos_main_head='0.00 ± 0.00', conflict_main_head='0.00 ± 0.00')
    _blank_one_sided(row, [run([0.0, 0.4], [0.1, 0.1])])
    assert row['cos_main_head'] == '0.00 ± 0.00'
