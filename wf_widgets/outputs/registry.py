"""THE table of output formats and destinations.

Every "is this allowed?" question is answered from the two tables below, by
:func:`~wf_widgets.outputs.normalize.normalize` (the table only) and
:func:`~wf_widgets.outputs.normalize.preflight` (what depends on the environment). The
API, the HTTP server, the widgets and the docs read these instances; adding a format
or an option is one entry here plus its codec.
"""

from __future__ import annotations

import dataclasses
from typing import Any

#: Every result kind a value can have (``Value.kind``).
ALL_KINDS = frozenset({"None", "Bool", "Int", "Float", "Str", "Datetime", "List", "Dict", "Array",
                       "Image", "ImageCollection", "Any"})


@dataclasses.dataclass(frozen=True)
class Option:
    """One option of a format or destination.

    Attributes
    ----------
    name : str
        Key in the format or destination dict.
    type : str
        ``"bool"``, ``"str"``, ``"enum"`` (one of ``allowed``, case-insensitive) or
        ``"catalog.Image"``.
    default : object
        Value when the option is not given (``REQUIRED`` if it must be given).
    allowed : tuple of str
        Allowed values of an enum.
    help : str
        One line shown in docs and form tooltips.
    single_line : bool
        For str options: CR and LF are rejected (e-mail header injection).
    """

    name: str
    type: str
    default: Any
    help: str
    allowed: tuple[str, ...] = ()
    single_line: bool = False


REQUIRED = object()


@dataclasses.dataclass(frozen=True)
class Format:
    """An output format: how a result is encoded.

    Attributes
    ----------
    name, title : str
        Key (``"geotiff"``) and display name (``"GeoTIFF"``).
    mimetype, extension : str
        Of the stored file.
    kinds : frozenset of str
        Result kinds it can encode.
    options : tuple of Option
    help : str
    """

    name: str
    title: str
    mimetype: str
    extension: str
    kinds: frozenset
    options: tuple[Option, ...]
    help: str

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)


@dataclasses.dataclass(frozen=True)
class Destination:
    """An output destination: where a result goes.

    Attributes
    ----------
    name, title : str
    shorthand : str
        What a user may pass instead of a dict.
    options : tuple of Option
    formats : tuple of str or None
        Formats it accepts (None: all).
    kinds : frozenset of str
        Result kinds it accepts.
    returns : str
        What ``compute()`` returns for it.
    handler : str
        Module delivering it, with ``deliver(backend, job, value)`` run by the worker,
        ``result(job)`` giving what ``Job.result()`` returns, and optionally
        ``preflight(destination, format, value, backend)`` checking the environment before
        a job exists.
    help : str
    """

    name: str
    title: str
    shorthand: str
    options: tuple[Option, ...]
    formats: tuple[str, ...] | None
    kinds: frozenset
    returns: str
    handler: str
    help: str

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)


GEOTIFF_COMPRESSIONS = ("lzw", "deflate", "zstd", "jpeg", "none")
RESAMPLERS = ("nearest", "average", "bilinear", "cubic", "mode")

FORMATS: dict[str, Format] = {f.name: f for f in (
    Format(
        "pyarrow", "PyArrow", "application/vnd.apache.arrow.stream", "arrow", ALL_KINDS,
        (Option("compression", "enum", "lz4", "Arrow IPC buffer compression", ("lz4", "zstd")),),
        "Arrow IPC stream; compute() decodes it back into Python.",
    ),
    Format("json", "JSON", "application/json", "json", ALL_KINDS, (),
           "UTF-8 JSON; compute() returns the raw bytes."),
    Format("geotiff", "GeoTIFF", "image/tiff", "tif", frozenset({"Image"}), (
        Option("overviews", "bool", True, "Build internal overviews"),
        Option("compression", "enum", "lzw", "Compression (jpeg for 8-bit data only)", GEOTIFF_COMPRESSIONS),
        Option("overview_resampler", "enum", "nearest", "Resampling used to build overviews", RESAMPLERS),
    ), "Cloud Optimized GeoTIFF of an Image; compute() returns the raw bytes."),
    Format("msgpack", "MessagePack", "application/msgpack", "msgpack", ALL_KINDS, (),
           "MessagePack; compute() returns the raw bytes."),
)}

DESTINATIONS: dict[str, Destination] = {d.name: d for d in (
    Destination(
        "download", "Download", '"download"', (), None, ALL_KINDS,
        "the decoded value for pyarrow, the raw bytes for other formats",
        "wf_widgets.delivery.download",
        "Stores the result and gives a link valid for the retention period (10 days by default).",
    ),
    Destination(
        "email", "Email", '"email"', (
            Option("subject", "str", "Your job has completed",
                   'Subject of the email, always prefixed with "Workflows: "', single_line=True),
            Option("body", "str", "Your Workflows job is done.", "Body of the email"),
        ), None, ALL_KINDS,
        "None, once the email is sent (job.url has the link)",
        "wf_widgets.delivery.email",
        "Like download, and emails you the link. Anyone with the link can download the data.",
    ),
    Destination(
        "catalog", "Catalog", "a catalog.Image", (
            Option("image", "catalog.Image", REQUIRED, "The catalog Image to upload to"),
            Option("overwrite", "bool", False, "Overwrite the image if it already exists"),
            Option("rescale", "bool", False, "Rescale each band from physical_range to data_range"),
            Option("change_dtype", "bool", False, "Convert to the product's data type"),
        ), ("geotiff",), frozenset({"Image"}),
        "the saved catalog.Image",
        "wf_widgets.delivery.catalog",
        "Uploads an Image into a catalog product as a Cloud Optimized GeoTIFF.",
    ),
)}

DEFAULT_FORMAT = "pyarrow"
DEFAULT_DESTINATION = "download"
