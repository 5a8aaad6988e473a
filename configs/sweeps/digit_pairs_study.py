# DHKD's falsification test on data this project can make (docs/study.md):
# one resnet20 -> resnet8 pair on the digit-pairs benchmark
# (dhkd_det.datasets.digit_pairs), every logit-distillation method of the
# paper's table and the variants that decide its premise (one head with
# both losses against two heads; DHKD with KD on its main head), 3 seeds,
# the 24-epoch study recipe, the gradient and neural-collapse diagnostics
# logged by every run (the pair config's hooks).  Relative to the working
# directory it expects the data in data/digit_pairs and the teacher in
# checkpoints/digit_pairs_resnet20.pth:
#   python -c "from dhkd_det.datasets import digit_pairs_as_cifar; \
#              digit_pairs_as_cifar('data/digit_pairs')"
#   python tools/train.py configs/teachers/digit_pairs_resnet20.py
#   mkdir -p checkpoints && cp work_dirs/digit_pairs_resnet20/best_top1_*.pth \
#       checkpoints/digit_pairs_resnet20.pth
#   python tools/reproduce.py configs/sweeps/digit_pairs_study.py
#   python tools/analysis/study_report.py configs/sweeps/digit_pairs_study.py
pairs = dict(res20_res8='../dhkd/digit_pairs_res20_res8.py')
# the deciding methods first, so that a partial sweep answers first
methods = ['ce', 'one_head_both', 'dhkd', 'dhkd_ga', 'kd', 'dhkd_kd', 'dkd',
           'kd_ls', 'dist']
seeds = [0, 1, 2]
cfg_options = {'default_hooks.checkpoint.max_keep_ckpts': 1}
