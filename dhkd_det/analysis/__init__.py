"""Reading finished runs back: curves as pictures, results as a table."""
from .curves import plot_panels, plot_runs
from .runs import Run, read_run
from .summary import markdown_table, summarize

__all__ = ['Run', 'read_run', 'plot_runs', 'plot_panels', 'summarize', 'markdown_table']
