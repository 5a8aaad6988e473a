# written by tools/reproduce.py for /work/study_tree/configs/sweeps/digit_pairs_study.py; rerun:
# python /work/study_tree/tools/train.py /work/studies/digit_pairs_study/res20_res8/dhkd_ga/seed_1/dhkd_ga.py --work-dir /work/studies/digit_pairs_study/res20_res8/dhkd_ga/seed_1
# DHKD+GA on pair res20_res8, seed 1; hyper-parameters: configs/dhkd/ as shipped (the reference quick start)
_base_ = '/work/study_tree/configs/dhkd/digit_pairs_res20_res8.py'
model = {'student': {'aux_head': 'nonlinear'}, 'task_losses': {'_delete_': True, 'main': {'type': 'CELoss', 'loss_weight': 1.0}}, 'distill_losses': {'_delete_': True, 'aux': {'type': 'BinaryKLNormLoss', 'temperature': 2.0, 'loss_weight': 1.0}}, 'eval_aux': True}
optim_wrapper = dict(type='GradAlignOptimWrapper')
custom_hooks = [{'type': 'DHKDHook'}, {'type': 'LossGuardHook'}, {'type': 'NeuralCollapseHook'}, {'type': 'GradDiagnosticsHook', 'interval': 20}]
randomness = dict(seed=1)
