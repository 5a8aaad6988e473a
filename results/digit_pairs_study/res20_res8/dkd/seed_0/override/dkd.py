# written by dhkd-reproduce (tools/reproduce.py) for /work/study_tree/configs/sweeps/digit_pairs_study.py; rerun:
# python -m dhkd_det.cli.train /work/studies/digit_pairs_study/res20_res8/dkd/seed_0/dkd.py --work-dir /work/studies/digit_pairs_study/res20_res8/dkd/seed_0
# DKD on pair res20_res8, seed 0; losses and hyper-parameters: configs/dkd/cifar100_res32x4_res8x4.py (mdistiller's CFG.DKD (with its warm-up) and the beta of its configs/cifar100/dkd/<pair>.yaml)
_base_ = '/work/study_tree/configs/dhkd/digit_pairs_res20_res8.py'
model = {'student': {'aux_head': None}, 'task_losses': {'_delete_': True, 'main': {'type': 'CELoss', 'loss_weight': 1.0}}, 'distill_losses': {'_delete_': True, 'main': {'type': 'DKDLoss', 'temperature': 4.0, 'alpha': 1.0, 'beta': 8.0}}, 'eval_aux': False}
optim_wrapper = dict(type='OptimWrapper')
custom_hooks = [{'type': 'DHKDHook'}, {'type': 'DistillScheduleHook', 'warmup_epochs': 2}, {'type': 'LossGuardHook'}, {'type': 'NeuralCollapseHook'}, {'type': 'GradDiagnosticsHook', 'interval': 20}]
randomness = dict(seed=0)
