"""Small helpers every layer may use; they import nothing of dhkd_det."""
from .aliases import register_alias
from .model import unwrapped_model

__all__ = ['register_alias', 'unwrapped_model']
