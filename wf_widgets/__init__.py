"""wf_widgets: compute raster workflows and send the results to output destinations.

``import wf_widgets as wf`` (or ``as dl``) gives the API of the original Workflows client:
lazy values (``wf.Int(1) + 1``, ``wf.List[wf.Int]([1, 2])``, ``wf.parameter("x", wf.Int)``),
``compute()`` with formats and destinations, Jobs, ``wf.scenes.DLTile``, ``wf.catalog``;
``wf.widgets`` has the Jupyter widgets and ``wf.map`` the map ``visualize()`` shows layers on
(both loaded lazily, so the backend imports without Jupyter). docs/compat.md says how close
to the original client it is.
"""

from __future__ import annotations

from typing import Any as _Any

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
    TypeParametersError,
    ValidationError,
    WfError,
    WfWarning,
)
from .geo import AOI, DLTile
from .jobs import Job, compute
from .outputs import DESTINATIONS, FORMATS
from .server import jupyter as _jupyter_extension
from .values import (
    Any_,
    Array,
    Bool,
    CollectionMixin,
    Datetime,
    Dict,
    Float,
    Int,
    KnownDict,
    List,
    NoneType,
    Number,
    Primitive,
    Slice,
    Str,
    Struct,
    Tuple,
    Value,
    parameter,
    range_,
    zip_,
)
from .values.image import Image, ImageCollection

#: The original client's name of :class:`Any_` (a value whose type is known once computed).
Any = Any_
#: ``wf.range`` and ``wf.zip``, as the original client's (not in ``__all__``: a star import
#: would hide Python's own).
range = range_
zip = zip_


__all__ = [
    "AOI", "Any", "Any_", "Array", "Backend", "Bool", "CollectionMixin", "DESTINATIONS", "DLTile", "Datetime", "Dict",
    "FORMATS", "Float", "GraphTypeError", "Image", "ImageCollection", "Int", "Job", "JobCancelled", "JobComputeError",
    "JobTimeoutError", "KnownDict", "List", "NoneType", "Number", "PermissionDenied", "Primitive", "ResultExpired",
    "Settings", "Slice", "Str", "Struct", "Tuple", "TypeParametersError", "ValidationError", "Value", "WfError",
    "WfWarning", "catalog", "compute", "geo", "get_backend", "parameter", "scenes", "set_backend", "widgets",
]


def __getattr__(name: str) -> _Any:
    # The widgets need Jupyter's packages: loaded on first use (PEP 562), so the backend
    # (a server, a cluster worker) imports without them. ``wf.map`` is the default TileMap.
    if name == "widgets":
        import wf_widgets.widgets as widgets  # noqa: PLC0415  (facade: Jupyter packages load on first use)

        return widgets
    if name == "map":
        from .widgets.default_map import default_map  # noqa: PLC0415  (facade: Jupyter packages load on first use)

        return default_map()
    raise AttributeError(f"module 'wf_widgets' has no attribute {name!r}")


def _jupyter_server_extension_points() -> list[dict]:
    """The Jupyter server extension serving links and tiles under ``<base_url>wf-widgets/``."""
    return [{"module": "wf_widgets.server.jupyter"}]


def _load_jupyter_server_extension(serverapp: _Any) -> None:
    _jupyter_extension._load_jupyter_server_extension(serverapp)


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"widgets", "map"})
