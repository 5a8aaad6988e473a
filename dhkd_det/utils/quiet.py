"""Keeping a run's console to its own lines (the demos): the libraries'
deprecation warnings, MMEngine's own deprecation notices and pycocotools'
prints say nothing about the run.  Errors and any other warning still
show; the run's log file keeps what MMEngine logs at its level."""
import contextlib
import io
import logging
import re
import sys
import warnings

#: the libraries whose DeprecationWarning / FutureWarning / UserWarning the
#: demos hide
LIBRARIES = r'(mmdet|mmengine|mmcv|torch|torchvision)(\.|$)'

#: what pycocotools prints on every evaluation (with print, not logging)
PYCOCOTOOLS_LINE = re.compile(
    r'^(loading annotations into memory\.\.\.|Done \(t=|DONE \(t=|'
    r'creating index\.\.\.|index created!|Loading and preparing results|'
    r'Running per image evaluation|Evaluate annotation type|'
    r'Accumulating evaluation results| Average (Precision|Recall) )')


def silence_library_warnings() -> None:
    """Hides the deprecation and user warnings of LIBRARIES from here on
    (call it early: some are raised when a module is first imported)."""
    for category in (UserWarning, DeprecationWarning, FutureWarning):
        warnings.filterwarnings('ignore', category=category,
                                module=LIBRARIES)
    # raised inside mmengine's imports but attributed to importlib
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')


def not_deprecation_notice(record: logging.LogRecord) -> bool:
    """A logging filter dropping the deprecation notices MMEngine logs as
    warnings on every run (FileClient, the HardDiskBackend alias):
    ``runner.logger.addFilter(not_deprecation_notice)``."""
    message = record.getMessage()
    return not ('will be deprecated' in message or
                'is the alias of' in message)


class LineFilter(io.TextIOBase):
    """A text stream passing on to ``stream`` the lines ``drop`` does not
    match, whole lines at a time."""

    def __init__(self, stream, drop: re.Pattern):
        self.stream, self.drop, self.pending = stream, drop, ''

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split('\n')
        for line in lines:
            if not self.drop.match(line):
                self.stream.write(line + '\n')
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


@contextlib.contextmanager
def quiet_pycocotools():
    """stdout without pycocotools' progress prints and its 12-line summary
    (the metrics reach the progress line and the tables)."""
    stream = LineFilter(sys.stdout, PYCOCOTOOLS_LINE)
    with contextlib.redirect_stdout(stream):
        try:
            yield
        finally:
            if stream.pending:
                stream.write('\n')
            stream.flush()
