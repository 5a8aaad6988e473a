"""The captured step against the eager one on the device: the comparison the
unit tests make on CPU (``dhkd_det.testing.step_equality``), here with the
step captured and replayed, under a schedule that moves the learning rate
and the distillation scale (so the step is captured more than once)."""
from ..testing.step_equality import compare_steps

#: steps: 3 warm-up, a capture, a recapture after the scale stops, replays
STEPS = 8


def graph_equality(device: str) -> dict:
    """Per wrapper (plain, GA, bf16), without augmentation (its random
    numbers need not come out alike captured), the largest differences of
    the logged values and of the weights, the captures made; and GA with
    augmentation, for information."""
    out = {}
    for name, kind, augment in (('plain', 'plain', False), ('ga', 'ga', False),
                                ('bf16', 'bf16', False),
                                ('ga_augmented', 'ga', True)):
        r = compare_steps(kind, device, steps=STEPS, augment=augment)
        out[name] = dict(
            max_log_diff=r['max_log_diff'],
            max_weight_diff=r['max_weight_diff'], captures=r['captures'],
            same_keys=r['same_keys'], graphed=r['graphed'],
            first_losses=[round(log['loss'], 5)
                          for log in r['graphed_logs'][:STEPS]])
    return out
