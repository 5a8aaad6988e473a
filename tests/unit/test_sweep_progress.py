"""The sweep's time left (``Estimate``): each cell expected to take the
mean of its method's finished runs (of all finished runs while its method
has none), a running cell what it has left of that, spread over the
slots; nothing until a run has been measured."""
import time

from dhkd_det.experiments.sweep import Cell, Estimate


def cell(method, seed=0):
    return Cell('pair', method, seed)


def test_by_method_then_overall():
    clock = Estimate(slots=2)
    assert clock.left([cell('ce')], {}) is None  # nothing measured yet
    clock.measured(cell('ce'), 60.0)
    clock.measured(cell('ce', 1), 120.0)
    clock.measured(cell('kd'), 300.0)
    clock.measured(cell('kd', 1), float('nan'))  # not a time: ignored
    assert clock.expected(cell('ce', 2)) == 90.0
    assert clock.expected(cell('kd', 2)) == 300.0
    assert clock.expected(cell('dhkd')) == 160.0  # all runs: (60+120+300)/3
    # two queued cells over two slots
    assert clock.left([cell('ce', 2), cell('kd', 2)], {}) == 195.0


def test_running_cells_count_what_they_have_left():
    clock = Estimate(slots=1)
    clock.measured(cell('kd'), 300.0)
    now = time.time()
    left = clock.left([], {cell('kd', 1): now - 100.0})
    assert 199.0 <= left <= 200.0  # 300 expected, 100 s run already
    # a run past its expectation has nothing left, not a negative time
    assert clock.left([], {cell('kd', 2): now - 1000.0}) == 0.0
