# written by dhkd-reproduce (tools/reproduce.py) for /work/study_tree/configs/sweeps/digit_pairs_study.py; rerun:
# python -m dhkd_det.cli.train /work/studies/digit_pairs_study/res20_res8/kd/seed_0/kd.py --work-dir /work/studies/digit_pairs_study/res20_res8/kd/seed_0
# KD on pair res20_res8, seed 0; losses and hyper-parameters: configs/kd/cifar100_res32x4_res8x4.py (mdistiller's CFG.KD, as CRD's scripts)
_base_ = '/work/study_tree/configs/dhkd/digit_pairs_res20_res8.py'
model = {'student': {'aux_head': None}, 'task_losses': {'_delete_': True, 'main': {'type': 'CELoss', 'loss_weight': 0.1}}, 'distill_losses': {'_delete_': True, 'main': {'type': 'KDLoss', 'temperature': 4.0, 'loss_weight': 0.9}}, 'eval_aux': False}
optim_wrapper = dict(type='OptimWrapper')
custom_hooks = [{'type': 'DHKDHook'}, {'type': 'LossGuardHook'}, {'type': 'NeuralCollapseHook'}, {'type': 'GradDiagnosticsHook', 'interval': 20}]
randomness = dict(seed=0)
