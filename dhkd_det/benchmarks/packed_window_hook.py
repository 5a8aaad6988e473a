"""The hook the GPU check's ``cls_packing`` part puts into each of the
training processes it runs side by side (through ``custom_imports``): the
processes wait for each other after their warm-up, so that their timed
windows overlap, and each writes its window's time to a JSON file."""
import json
import os
import os.path as osp
import time

from mmengine.registry import HOOKS

from .timers import WindowTimer, synchronize

#: the file each process writes into its work dir
WINDOW_FILE = 'packed_window.json'


@HOOKS.register_module()
class PackedWindowTimerHook(WindowTimer):
    """A WindowTimer of iterations ``start`` .. ``stop - 1`` that waits
    before its window until ``processes`` processes have reached theirs
    (each leaves a file in ``barrier_dir``; at most ``barrier_timeout_s``,
    then it goes on and says so) and writes ``{seconds, iters, begin, end,
    barrier_timed_out}`` (``begin`` / ``end``: wall-clock time.time()) to
    WINDOW_FILE in the run's work dir when the window closes."""

    def __init__(self, start: int, stop: int, device: str, barrier_dir: str,
                 processes: int, barrier_timeout_s: float = 300):
        super().__init__(start, stop, device)
        self.barrier_dir, self.processes = barrier_dir, processes
        self.barrier_timeout_s = barrier_timeout_s
        self.barrier_timed_out = False

    def before_train(self, runner) -> None:
        self.out_file = osp.join(runner.work_dir, WINDOW_FILE)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.start:
            synchronize(self.device)  # the warm-up's work done first
            self.wait_for_the_others()
            self.begin = time.time()
        super().after_train_iter(runner, batch_idx, data_batch, outputs)

    def wait_for_the_others(self) -> None:
        os.makedirs(self.barrier_dir, exist_ok=True)
        open(osp.join(self.barrier_dir, str(os.getpid())), 'w').close()
        deadline = time.monotonic() + self.barrier_timeout_s
        while len(os.listdir(self.barrier_dir)) < self.processes:
            if time.monotonic() > deadline:
                self.barrier_timed_out = True
                return
            time.sleep(0.01)

    def close(self) -> None:
        was_open = self.is_open
        super().close()
        if was_open:
            with open(self.out_file, 'w') as f:
                json.dump(dict(seconds=self.seconds, iters=self.iters,
                               begin=self.begin, end=time.time(),
                               barrier_timed_out=self.barrier_timed_out), f)
