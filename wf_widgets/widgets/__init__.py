"""Jupyter widgets: ExportForm, JobsBoard, TileMap and CatalogBrowser.

Importing this package imports ipywidgets, anywidget and ipyleaflet; ``wf_widgets`` loads
it lazily (``wf.widgets``) so the backend never needs Jupyter packages. No business rule
lives here: the widgets ask :mod:`wf_widgets.outputs` (the one table), :mod:`wf_widgets.jobs`
and :mod:`wf_widgets.catalog`. See docs/widgets.md.
"""

from ._base import static_path
from .catalog_browser import CatalogBrowser
from .export_form import ExportForm
from .jobs_board import JobsBoard
from .tile_map import TileMap

__all__ = ["CatalogBrowser", "ExportForm", "JobsBoard", "TileMap", "static_path"]
