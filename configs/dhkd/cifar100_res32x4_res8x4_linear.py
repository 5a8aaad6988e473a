# DHKD with a linear aux head and no gradient alignment: the reference
# code's default (--dual_head --linear).  The sweep's method `dhkd_linear`.
_base_ = './cifar100_res32x4_res8x4.py'
model = dict(student=dict(aux_head='linear'))
optim_wrapper = dict(type='OptimWrapper')
