"""Timing several variants of a step against each other on a shared,
drifting machine: round-robin, in rotating order, so that a drift hits all
of them alike."""
import time
from typing import Callable, Dict, List


def interleaved_times(steps: Dict[str, Callable[[], object]], rounds: int,
                      warmup: int = 0) -> Dict[str, List[float]]:
    """Seconds of each call of each step over ``rounds`` rounds after
    ``warmup`` untimed ones; in round ``i`` the steps run in their order
    rotated by ``i``, so that no step always follows another."""
    names = list(steps)
    times = {name: [] for name in names}
    for i in range(warmup + rounds):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            start = time.perf_counter()
            steps[name]()
            seconds = time.perf_counter() - start
            if i >= warmup:
                times[name].append(seconds)
    return times
