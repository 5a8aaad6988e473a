# written by dhkd-reproduce (tools/reproduce.py) for /work/study_tree/configs/sweeps/digit_pairs_study.py; rerun:
# python -m dhkd_det.cli.train /work/studies/digit_pairs_study/res20_res8/dhkd_kd/seed_0/dhkd_kd.py --work-dir /work/studies/digit_pairs_study/res20_res8/dhkd_kd/seed_0
# DHKD+KD on pair res20_res8, seed 0; losses and hyper-parameters: configs/dhkd/cifar100_res32x4_res8x4_kd_main.py (the kd method's main head plus DHKD's aux head, no gradient alignment)
_base_ = '/work/study_tree/configs/dhkd/digit_pairs_res20_res8.py'
model = {'student': {'aux_head': 'nonlinear'}, 'task_losses': {'_delete_': True, 'main': {'type': 'CELoss', 'loss_weight': 0.1}}, 'distill_losses': {'_delete_': True, 'main': {'type': 'KDLoss', 'temperature': 4.0, 'loss_weight': 0.9}, 'aux': {'type': 'BinaryKLNormLoss', 'temperature': 2.0, 'loss_weight': 1.0}}, 'eval_aux': True}
optim_wrapper = dict(type='OptimWrapper')
custom_hooks = [{'type': 'DHKDHook'}, {'type': 'LossGuardHook'}, {'type': 'NeuralCollapseHook'}, {'type': 'GradDiagnosticsHook', 'interval': 20}]
randomness = dict(seed=0)
