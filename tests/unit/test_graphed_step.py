"""model.cuda_graph=True: the step that is captured on a GPU, run uncaptured
on CPU, gives the eager step's losses and weights, whatever the wrapper, the
learning rate schedule and the distillation scale do; what it cannot
capture it refuses with the reason.  (The GPU check runs the same
comparison captured: ``gpu_check.py``'s ``cls_graph_equality``.)"""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper

from dhkd_det.testing.step_equality import (compare_steps, random_batches,
                                            sgd_wrapper, small_distiller,
                                            train_steps)


@pytest.mark.parametrize('kind', ['plain', 'ga', 'bf16'])
def test_same_losses_and_weights_as_the_eager_step(kind):
    """Six steps with the learning rate dropping, the distillation scale
    moving and stopping and agreement logged from the fourth."""
    out = compare_steps(kind, 'cpu', steps=6)
    assert out['graphed'] and out['same_keys']
    assert len(out['eager_logs']) == 6
    tol = 1e-2 if kind == 'bf16' else 1e-5
    assert out['max_log_diff'] <= tol, out
    assert out['max_weight_diff'] <= tol
    # the losses moved: the comparison is not of six identical steps
    losses = [log['loss'] for log in out['eager_logs']]
    assert len(set(losses)) == 6


def test_momentum_is_the_optimizer_state_shared_with_eager_steps():
    """A batch of another shape (the last partial one) and a step with a
    grad observer run eagerly, on the momentum the graphed steps keep in
    the optimizer's state (checkpoints save it too)."""
    batches = random_batches(3) + random_batches(1, size=5, seed=2) + \
        random_batches(2, seed=3)
    eager, graphed = small_distiller(False), small_distiller(True)
    seen = []
    graphed.add_grad_observer(lambda task, distill: seen.append(1))

    def observe_once(i, model, wrapper):
        if i == 1 and model is graphed:
            model.remove_grad_observer(model._grad_observers[0])

    wrappers = [sgd_wrapper(m, 'ga') for m in (eager, graphed)]
    logs = [train_steps(m, w, batches, observe_once)
            for m, w in zip((eager, graphed), wrappers)]
    assert seen == [1]  # the observed step ran eagerly, once
    assert graphed.graphed_step.batch_shape == (8, 3, 32, 32)
    for step_eager, step_graphed in zip(*logs):
        assert step_graphed['loss'] == pytest.approx(step_eager['loss'],
                                                     rel=1e-5)
    state = [w.optimizer.state_dict()['state'] for w in wrappers]
    assert state[1].keys() == state[0].keys()
    for key in state[0]:
        torch.testing.assert_close(state[1][key]['momentum_buffer'],
                                   state[0][key]['momentum_buffer'],
                                   rtol=1e-5, atol=1e-6)


def test_gradient_alignment_counts_in_graphed_steps():
    """read_stats counts the graphed steps as the eager ones (the counters
    live on the device, so that replays count)."""
    stats = []
    for cuda_graph in (False, True):
        model = small_distiller(cuda_graph)
        wrapper = sgd_wrapper(model, 'ga')
        train_steps(model, wrapper, random_batches(4))
        stats.append(wrapper.read_stats())
        assert int(wrapper.read_stats().steps) == 0
    assert int(stats[0].steps) == int(stats[1].steps) == 4
    assert float(stats[1].projected) == float(stats[0].projected)
    assert float(stats[1].mean_rel_change) == pytest.approx(
        float(stats[0].mean_rel_change), rel=1e-5)


@pytest.mark.parametrize('wrap, words', [
    (lambda m: OptimWrapper(torch.optim.Adam(m.parameters())),
     'optimizer Adam'),
    (lambda m: OptimWrapper(torch.optim.SGD(m.parameters(), lr=0.1),
                            accumulative_counts=2),
     'accumulative_counts=2'),
    (lambda m: OptimWrapper(torch.optim.SGD(m.parameters(), lr=0.1),
                            clip_grad=dict(max_norm=1.0)),
     'optim_wrapper.clip_grad'),
])
def test_what_it_cannot_capture_is_refused_with_the_reason(wrap, words):
    model = small_distiller(True).train()
    with pytest.raises(ValueError, match='model.cuda_graph') as err:
        model.train_step(random_batches(1)[0], wrap(model))
    assert words in str(err.value)


def test_uncollated_batches_are_refused():
    model = small_distiller(True).train()
    batch = random_batches(1)[0]
    listed = dict(inputs=list(batch['inputs']),
                  data_samples=batch['data_samples'])
    with pytest.raises(TypeError, match='default_collate'):
        model.train_step(listed, sgd_wrapper(model, 'plain'))


def test_a_deep_copy_steps_its_own_weights():
    """EMA-style hooks deep-copy the model: the copy's step is its own."""
    model = small_distiller(True)
    twin = copy.deepcopy(model)
    assert twin.graphed_step.distiller is twin
