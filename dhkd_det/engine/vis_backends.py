"""``OptionalTensorboardVisBackend``: MMEngine's ``TensorboardVisBackend``
where TensorBoard can be imported, and nothing but one log line where it
cannot, so that our configs list it by default (live curves with
``tensorboard --logdir WORK_DIR``) and still run without the optional
package (``pip install tensorboard``, or dhkd_det's ``tensorboard``
extra).  MMEngine's own backend would stop such a run at its first
logged scalar."""
import logging
from typing import Optional

from mmengine.logging import print_log
from mmengine.registry import VISBACKENDS
from mmengine.visualization import TensorboardVisBackend


def tensorboard_missing() -> Optional[str]:
    """Why TensorBoard's writer cannot be imported, or None when it can."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError as err:
        return str(err)
    return None


@VISBACKENDS.register_module()
class OptionalTensorboardVisBackend(TensorboardVisBackend):
    """Writes TensorBoard event files under ``<save_dir>`` (MMEngine's
    ``<work_dir>/<timestamp>/vis_data``) when TensorBoard is installed;
    otherwise says once why not and records nothing (the scalars still go
    to ``LocalVisBackend``'s ``scalars.json``)."""

    def __init__(self, save_dir: str):
        super().__init__(save_dir)
        missing = tensorboard_missing()
        self.enabled = missing is None
        if missing is not None:
            print_log('no TensorBoard events for this run: TensorBoard '
                      f'cannot be imported ({missing}); pip install '
                      "tensorboard (dhkd_det's 'tensorboard' extra) for "
                      'live curves', 'current', logging.INFO)

    @property
    def experiment(self):
        """TensorBoard's ``SummaryWriter``; None without TensorBoard."""
        return super().experiment if self.enabled else None

    def add_config(self, config, **kwargs) -> None:
        if self.enabled:
            super().add_config(config, **kwargs)

    def add_image(self, name, image, step: int = 0, **kwargs) -> None:
        if self.enabled:
            super().add_image(name, image, step, **kwargs)

    def add_scalar(self, name, value, step: int = 0, **kwargs) -> None:
        if self.enabled:
            super().add_scalar(name, value, step, **kwargs)

    def add_scalars(self, scalar_dict: dict, step: int = 0,
                    file_path: Optional[str] = None, **kwargs) -> None:
        if self.enabled:
            super().add_scalars(scalar_dict, step, file_path, **kwargs)

    def close(self) -> None:
        if self.enabled:
            super().close()
