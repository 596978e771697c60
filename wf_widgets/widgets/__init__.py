"""Jupyter widgets: ExportForm, JobsBoard (and TileMap when present).

Importing this package imports ipywidgets and anywidget; ``wf_widgets`` loads it lazily
(``wf.widgets``) so the backend never needs Jupyter packages. No business rule lives here:
the widgets ask :mod:`wf_widgets.outputs` (the one table), :mod:`wf_widgets.jobs` and
:mod:`wf_widgets.catalog`. See docs/widgets.md.
"""

from ._base import static_path
from .export_form import ExportForm
from .jobs_board import JobsBoard

__all__ = ["ExportForm", "JobsBoard", "static_path"]

try:  # the map widget lives in its own module, added separately
    from .tile_map import TileMap  # noqa: F401
except ModuleNotFoundError as _exc:
    if _exc.name != f"{__name__}.tile_map":
        raise
else:
    __all__.append("TileMap")
