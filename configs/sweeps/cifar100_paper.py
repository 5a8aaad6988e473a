# The paper's CIFAR-100 table: the ten teacher / student pairs of
# configs/dhkd/ x the eight methods of the paper's table (each a config of
# configs/<method>/, named in dhkd_det/experiments/methods.py) x 3 seeds
# (240 runs), each by the CRD / mdistiller recipe (240 epochs, batch 64).
#   python tools/reproduce.py configs/sweeps/cifar100_paper.py --per-gpu 2
# Needs CIFAR-100 in data/cifar100 and mdistiller's teachers
# (cifar_teachers.tar) unpacked in checkpoints/cifar_teachers/, as the pair
# configs name them.
pairs = ['res56_res20', 'res110_res32', 'res32x4_res8x4', 'wrn40_2_wrn16_2',
         'wrn40_2_wrn40_1', 'vgg13_vgg8', 'res32x4_shufflev1',
         'wrn40_2_shufflev1', 'vgg13_mv2', 'res50_mv2']
methods = ['ce', 'kd', 'dkd', 'kd_ls', 'dist', 'one_head_both', 'dhkd',
           'dhkd_ga']
seeds = [0, 1, 2]
# every run keeps its best and last checkpoints only
cfg_options = {'default_hooks.checkpoint.max_keep_ckpts': 1}
