# written by dhkd-reproduce (tools/reproduce.py) for /work/study_tree/configs/sweeps/digit_pairs_study.py; rerun:
# python -m dhkd_det.cli.train /work/studies/digit_pairs_study/res20_res8/dist/seed_2/dist.py --work-dir /work/studies/digit_pairs_study/res20_res8/dist/seed_2
# DIST on pair res20_res8, seed 2; losses and hyper-parameters: configs/dist/cifar100_res32x4_res8x4.py (image_classification_sota's dist_cifar.yaml (kd 'dist_t4'))
_base_ = '/work/study_tree/configs/dhkd/digit_pairs_res20_res8.py'
model = {'student': {'aux_head': None}, 'task_losses': {'_delete_': True, 'main': {'type': 'CELoss', 'loss_weight': 1.0}}, 'distill_losses': {'_delete_': True, 'main': {'type': 'DISTLoss', 'tau': 4.0, 'beta': 1.0, 'gamma': 1.0, 'loss_weight': 2.0}}, 'eval_aux': False}
optim_wrapper = dict(type='OptimWrapper')
custom_hooks = [{'type': 'DHKDHook'}, {'type': 'LossGuardHook'}, {'type': 'NeuralCollapseHook'}, {'type': 'GradDiagnosticsHook', 'interval': 20}]
randomness = dict(seed=2)
