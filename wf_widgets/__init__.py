"""wf_widgets: compute raster workflows and send the results to output destinations.

``import wf_widgets as wf`` (or ``as dl``) gives the API of the original Workflows client:
lazy values (``wf.Int(1) + 1``), ``compute()`` with formats and destinations, Jobs,
``wf.scenes.DLTile``, ``wf.catalog``; ``wf.widgets`` has the Jupyter widgets (loaded lazily,
so the backend imports without Jupyter).
"""

from __future__ import annotations

from typing import Any

from . import catalog, geo, scenes
from ._version import __version__ as __version__
from .backend import Backend, get_backend, set_backend
from .config import Settings
from .errors import (
    GraphTypeError,
    JobCancelled,
    JobComputeError,
    JobTimeoutError,
    PermissionDenied,
    ResultExpired,
    ValidationError,
    WfError,
    WfWarning,
)
from .geo import AOI, DLTile
from .jobs import Job, compute
from .outputs import DESTINATIONS, FORMATS
from .server import jupyter as _jupyter_extension
from .values import Any_, Array, Bool, Datetime, Dict, Float, Int, List, NoneType, Str, Value
from .values.image import Image, ImageCollection

__all__ = [
    "AOI", "Any_", "Array", "Backend", "Bool", "DESTINATIONS", "DLTile", "Datetime", "Dict", "FORMATS", "Float",
    "GraphTypeError", "Image", "ImageCollection", "Int", "Job", "JobCancelled", "JobComputeError", "JobTimeoutError",
    "List", "NoneType", "PermissionDenied", "ResultExpired", "Settings", "Str", "ValidationError", "Value", "WfError",
    "WfWarning", "catalog", "compute", "geo", "get_backend", "scenes", "set_backend", "widgets",
]


def __getattr__(name: str) -> Any:
    # The widgets need Jupyter's packages: loaded on first use (PEP 562), so the backend
    # (a server, a cluster worker) imports without them.
    if name == "widgets":
        import wf_widgets.widgets as widgets  # noqa: PLC0415  (facade: Jupyter packages load on first use)

        return widgets
    raise AttributeError(f"module 'wf_widgets' has no attribute {name!r}")


def _jupyter_server_extension_points() -> list[dict]:
    """The Jupyter server extension serving links and tiles under ``<base_url>wf-widgets/``."""
    return [{"module": "wf_widgets.server.jupyter"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    _jupyter_extension._load_jupyter_server_extension(serverapp)


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"widgets"})
