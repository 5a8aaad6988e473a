# DHKD without gradient alignment: the pair's DHKD config (CE on the main
# head, BinaryKLNorm T=2 on a nonlinear aux head) stepping on the sum of
# the two gradients as they are.  The sweep's method `dhkd`; `dhkd_ga` is
# ./cifar100_res32x4_res8x4.py as shipped.
_base_ = './cifar100_res32x4_res8x4.py'
optim_wrapper = dict(type='OptimWrapper')
