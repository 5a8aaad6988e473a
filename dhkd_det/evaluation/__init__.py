from .accuracy import ClsAccuracy

__all__ = ['ClsAccuracy']
