"""wf_widgets: compute raster workflows and send the results to output destinations.

``import wf_widgets as wf`` (or ``as dl``) gives the API of the original Workflows client:
lazy values (``wf.Int(1) + 1``), ``compute()`` with formats and destinations, Jobs,
``wf.scenes.DLTile``, ``wf.catalog``; ``wf.widgets`` has the Jupyter widgets (loaded lazily,
so the backend imports without Jupyter).
"""

from __future__ import annotations

import importlib
from typing import Any

from .backend import Backend, get_backend, set_backend
from .config import Settings
from .errors import (GraphTypeError, JobCancelled, JobComputeError, JobTimeoutError, PermissionDenied, ResultExpired,
                     ValidationError, WfError, WfWarning)
from .jobs import Job, compute
from .outputs import DESTINATIONS, FORMATS
from .values import Any_, Array, Bool, Datetime, Dict, Float, Int, List, NoneType, Str, Value

__version__ = "0.1.0"

# Loaded on first use (PEP 562): name -> (module, attribute or None for the module itself).
_LAZY = {
    "widgets": ("wf_widgets.widgets", None),
    "catalog": ("wf_widgets.catalog", None),
    "scenes": ("wf_widgets.scenes", None),
    "geo": ("wf_widgets.geo", None),
    "DLTile": ("wf_widgets.geo", "DLTile"),
    "AOI": ("wf_widgets.geo", "AOI"),
    "Image": ("wf_widgets.values.image", "Image"),
    "ImageCollection": ("wf_widgets.values.image", "ImageCollection"),
}

__all__ = [
    "AOI", "Any_", "Array", "Backend", "Bool", "DESTINATIONS", "DLTile", "Datetime", "Dict", "FORMATS", "Float",
    "GraphTypeError", "Image", "ImageCollection", "Int", "Job", "JobCancelled", "JobComputeError", "JobTimeoutError",
    "List", "NoneType", "PermissionDenied", "ResultExpired", "Settings", "Str", "ValidationError", "Value", "WfError",
    "WfWarning", "catalog", "compute", "get_backend", "scenes", "set_backend", "widgets",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'wf_widgets' has no attribute {name!r}") from None
    mod = importlib.import_module(module)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value


def _jupyter_server_extension_points() -> list[dict]:
    """The Jupyter server extension serving links and tiles under ``<base_url>wf-widgets/``."""
    return [{"module": "wf_widgets.server.jupyter"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from .server.jupyter import _load_jupyter_server_extension as load

    load(serverapp)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
