"""THE table of output formats and destinations.

Every "is this allowed?" question is answered from the two tables below, by
:func:`~wf_widgets.outputs.normalize.normalize` (the table only) and
:func:`~wf_widgets.outputs.normalize.preflight` (what depends on the environment). The
API, the HTTP server, the widgets and the docs read these instances; adding a format
or an option is one entry here plus its codec.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Any, Callable

from . import storage_url

#: Every result kind a value can have (``Value.kind``).
ALL_KINDS = frozenset({"None", "Bool", "Int", "Float", "Str", "Datetime", "List", "Dict", "Array",
                       "Image", "ImageCollection", "Any"})


#: Every character ``str.splitlines()`` splits on: LF, VT, FF, CR, FS, GS, RS, NEL, LS, PS.
LINE_BREAKS = "\n\x0b\x0c\r\x1c\x1d\x1e\x85\u2028\u2029"
_LINE_BREAK = re.compile(f"[{re.escape(LINE_BREAKS)}]")
#: RFC 2047 encoded-word syntax (``=?charset?q?text?=``, ``=?charset?b?text?=``); mail readers
#: (and Python's email package) decode it, so it could smuggle line breaks into a header.
ENCODED_WORD = re.compile(r"=\?[^?]*\?[bBqQ]\?.*?\?=", re.S)


_CONTROL_NAMES = {"\t": "TAB", "\n": "LF", "\x0b": "VT", "\x0c": "FF", "\r": "CR", "\x1c": "FS", "\x1d": "GS",
                  "\x1e": "RS", "\x7f": "DEL", "\x85": "NEL"}


def _char(ch: str) -> str:
    name = _CONTROL_NAMES.get(ch) or unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def line_break(text: str) -> str | None:
    """The first line break in ``text`` (any of :data:`LINE_BREAKS`), described, or None."""
    m = _LINE_BREAK.search(text)
    return None if m is None else f"a line break ({_char(m.group())}) at position {m.start()}"


def _surrogate(text: str) -> str | None:
    m = re.search("[\ud800-\udfff]", text)
    return None if m is None else f"an unpaired surrogate (U+{ord(m.group()):04X}) at position {m.start()}"


def header_text_problem(text: str) -> str | None:
    """Why ``text`` may not go into a mail header, or None.

    Refused: line breaks of every kind (:data:`LINE_BREAKS`), every other control character
    (C0, DEL, C1; the tab too), unpaired surrogates and RFC 2047 encoded words.
    """
    problem = line_break(text) or _surrogate(text)
    if problem:
        return problem
    for i, ch in enumerate(text):
        if unicodedata.category(ch) == "Cc":
            return f"a control character ({_char(ch)}) at position {i}"
    m = ENCODED_WORD.search(text)
    if m is not None:
        return f"an RFC 2047 encoded word {m.group()!r} at position {m.start()}"
    return None


def body_text_problem(text: str) -> str | None:
    """Why ``text`` may not be the body of a mail, or None.

    Line breaks of every kind are fine (the mailer turns each into a new line); refused are
    unpaired surrogates and control characters other than tab and line breaks.
    """
    problem = _surrogate(text)
    if problem:
        return problem
    for i, ch in enumerate(text):
        if unicodedata.category(ch) == "Cc" and ch != "\t" and ch not in LINE_BREAKS:
            return f"a control character ({_char(ch)}) at position {i}"
    return None


@dataclasses.dataclass(frozen=True)
class TextRule:
    """What a ``"str"`` option may hold.

    Attributes
    ----------
    allowed : str
        In words, for the errors, the docs and the form's tooltips.
    problem : callable
        ``problem(text)`` says why ``text`` is refused, or returns None.
    single_line : bool
        Whether the value is one line (the form shows a one-line field).
    what : str or None
        What the value is, for errors whose ``problem`` phrases are sentences of their own
        ("destination.url must be a storage URL: ..."); None: the text rules' "contains ..." form.
    examples : tuple of str
        The shapes a value may take, for the error's ``allowed`` (with ``what``).
    """

    allowed: str
    problem: Callable[[str], "str | None"]
    single_line: bool = False
    what: str | None = None
    examples: tuple[str, ...] = ()


#: Text that goes into a mail header (the email subject).
HEADER_TEXT = TextRule(
    "one line of text without control characters (no CR, LF, tab, VT, FF, NEL, ...), line or paragraph "
    "separators (U+2028, U+2029) or RFC 2047 encoded words ('=?charset?q?...?=')",
    header_text_problem, single_line=True,
)
#: Text that goes into a mail body; it never reaches a header.
BODY_TEXT = TextRule(
    "any text; line breaks are kept as new lines; no control characters other than tab and line breaks",
    body_text_problem,
)


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
        One line shown in docs and form tooltips (with ``text.allowed`` appended, if any).
    text : TextRule or None
        For str options: what the value may hold, checked by ``normalize``.
    """

    name: str
    type: str
    default: Any
    help: str
    allowed: tuple[str, ...] = ()
    text: TextRule | None = None

    @property
    def single_line(self) -> bool:
        """A str option whose value is one line (the form shows a one-line field)."""
        return self.text is not None and self.text.single_line

    @property
    def description(self) -> str:
        """The help text, and what a str value may hold."""
        return f"{self.help} ({self.text.allowed})" if self.text is not None else self.help


class _Required:
    """The type of :data:`REQUIRED` (one instance, compared with ``is``; its repr is its name)."""

    def __repr__(self) -> str:
        return "REQUIRED"


#: The default of an option that must be given.
REQUIRED = _Required()


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
        What ``compute()`` returns for it. Its handler (preflight, deliver, result) is the
        entry of the same name in :data:`wf_widgets.delivery.HANDLERS`.
    help : str
    """

    name: str
    title: str
    shorthand: str
    options: tuple[Option, ...]
    formats: tuple[str, ...] | None
    kinds: frozenset
    returns: str
    help: str

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)


#: The storage destination's URL (:mod:`wf_widgets.outputs.storage_url`).
STORAGE_URL = TextRule(storage_url.DESCRIPTION, storage_url.problem, single_line=True, what="a storage URL",
                       examples=storage_url.ALLOWED)


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
        "Stores the result and gives a link valid for the retention period (10 days by default).",
    ),
    Destination(
        "email", "Email", '"email"', (
            Option("subject", "str", "Your job has completed",
                   'Subject of the email, always prefixed with "Workflows: "', text=HEADER_TEXT),
            Option("body", "str", "Your Workflows job is done.",
                   "Body of the email, before the link; it goes into the text and HTML parts (HTML-escaped), "
                   "never into a header", text=BODY_TEXT),
        ), None, ALL_KINDS,
        "None, once the email is sent (job.url has the link)",
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
        "Uploads an Image into a catalog product as a Cloud Optimized GeoTIFF.",
    ),
    Destination(
        "storage", "Cloud storage", '{"type": "storage", "url": ...}', (
            Option("url", "str", REQUIRED, "Where the object is written, one per job; an existing object of "
                   "that name is replaced", text=STORAGE_URL),
        ), None, ALL_KINDS,
        "the object's URL (str)",
        "Writes the encoded result as one object (s3://, az://) or file (file://), atomically; its URL and size are in "
        "the job's row. gs:// is not offered (untested here).",
    ),
)}

DEFAULT_FORMAT = "pyarrow"
DEFAULT_DESTINATION = "download"
