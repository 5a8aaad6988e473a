# written by tools/reproduce.py for /work/study_tree/configs/sweeps/digit_pairs_study.py; rerun:
# python /work/study_tree/tools/train.py /work/studies/digit_pairs_study/res20_res8/ce/seed_2/ce.py --work-dir /work/studies/digit_pairs_study/res20_res8/ce/seed_2
# CE student on pair res20_res8, seed 2; hyper-parameters: the student trained on the labels alone, by the same recipe
_base_ = '/work/study_tree/configs/dhkd/digit_pairs_res20_res8.py'
model = {'student': {'aux_head': None}, 'task_losses': {'_delete_': True, 'main': {'type': 'CELoss', 'loss_weight': 1.0}}, 'distill_losses': {'_delete_': True}, 'eval_aux': False}
optim_wrapper = dict(type='OptimWrapper')
custom_hooks = [{'type': 'LossGuardHook'}, {'type': 'NeuralCollapseHook'}, {'type': 'GradDiagnosticsHook', 'interval': 20}]
randomness = dict(seed=2)
