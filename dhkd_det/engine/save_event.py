"""A hook event of our checkpoint writers: ``before_save_checkpoint_every_rank``.

MMEngine's ``Runner.save_checkpoint`` runs on the main process only, and so
does its ``before_save_checkpoint`` event: a hook cannot gather there what
the other ranks hold.  Our writers (``AtomicCheckpointHook``,
``PreemptionHook``) call this event on every rank just before rank 0
writes, at a point every rank reaches together, so a hook may run
collectives in it (``RngStateHook`` gathers each rank's generator states
there, which its ``before_save_checkpoint`` then puts in the checkpoint).

A hook implements it as ``before_save_checkpoint_every_rank(self, runner)``;
MMEngine's ``call_hook`` calls it on the hooks that have it.
"""

#: the event's name, as hooks implement it
BEFORE_SAVE_EVERY_RANK = 'before_save_checkpoint_every_rank'


def before_save_on_every_rank(runner) -> None:
    """Call the event; every rank must call it at the same point."""
    runner.call_hook(BEFORE_SAVE_EVERY_RANK)
