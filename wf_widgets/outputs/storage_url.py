"""The ``url`` of the storage destination: its syntax, its templates, and the key they give.

A storage URL names one object per job: ``s3://<bucket>/<key template>``,
``az://<container>/<key template>`` or ``file:///<absolute path template>``. The key (or path) may hold the fields of
:data:`TEMPLATE_FIELDS`, filled in when the job delivers (:func:`render`):

* ``{job_id}``: the job's id (48 hexadecimal characters);
* ``{tile_key}``: the DLTile key with ``":"`` replaced by ``"_"`` (:data:`NO_TILE_KEY` for a job
  computed without a tile), as the export form's image name template;
* ``{date}``: the job's completion date, UTC, ``YYYY-MM-DD``;
* ``{ext}``: the format's file extension (``arrow``, ``json``, ``tif``, ``msgpack``).

Braces are doubled for literal ones (``{{``); no format specs or conversions. The bucket
takes no fields (preflight checks it before a job exists). A key must name an object:
``/``-separated parts, none empty, ``.`` or ``..`` (so no trailing ``/``).

Schemes: :data:`SCHEMES` are offered, each tested for real (an S3-compatible server, moto;
Azure's emulator, Azurite; a local folder). ``gs://`` (:data:`UNTESTED_SCHEMES`) would go
through the same object-store library (obstore), but the GCS emulator that runs here
(gcp-storage-emulator) answers uploads without the ``ETag`` header the library requires, so
it could not be tested: it is refused with a message saying so. Pure functions: what depends on the environment (the deployment's own
storage, ``WF_WIDGETS_STORAGE_ROOTS``, reachability) is the handler's preflight
(:mod:`wf_widgets.delivery.storage_dest`).
"""

from __future__ import annotations

import dataclasses
import re
import string
from urllib.parse import unquote, urlsplit

#: Schemes the storage destination offers.
SCHEMES = ("s3", "az", "file")
#: Schemes of the same object-store library that are refused until tested against an emulator.
UNTESTED_SCHEMES = ("gs",)
#: The fields a key template may hold.
TEMPLATE_FIELDS = ("job_id", "tile_key", "date", "ext")
#: What ``{tile_key}`` gives for a job computed without a DLTile (as the export form's image names).
NO_TILE_KEY = "geoctx"
#: An S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
#: An Azure container name (3 to 63 lowercase letters, digits and single hyphens, not at either end).
_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")
#: Sample values the template is rendered with to check the keys it gives.
_SAMPLE = {"job_id": "0" * 48, "tile_key": "512_16_10.0_13_-3_40", "date": "2020-01-01", "ext": "tif"}
ALLOWED = ("s3://<bucket>/<key>", "az://<container>/<key>", "file:///<absolute path>")
#: In words, for errors, the docs and the form's tooltip.
DESCRIPTION = ("s3://<bucket>/<key>, az://<container>/<key> or file:///<absolute path> (under "
               "WF_WIDGETS_STORAGE_ROOTS), the key with the fields {job_id}, {tile_key}, {date} (UTC YYYY-MM-DD), "
               "{ext}")


@dataclasses.dataclass(frozen=True)
class StorageURL:
    """A checked storage URL.

    Attributes
    ----------
    scheme : str
        ``"s3"``, ``"az"`` or ``"file"``.
    bucket : str
        The bucket, or Azure container (``""`` for ``file``).
    template : str
        The key template in the bucket (no leading ``/``), or the absolute path template (``file``).
    """

    scheme: str
    bucket: str
    template: str

    @property
    def static(self) -> str:
        """The template's part before its first field, cut at its last ``/`` (a folder: ``""`` or ending in ``/``)."""
        first = _first_field(self.template)
        head = self.template[:first]
        return head[:head.rfind("/") + 1].replace("{{", "{").replace("}}", "}")

    def url(self, key: str) -> str:
        """The URL of the object ``key`` (a rendered template)."""
        return f"file://{key}" if self.scheme == "file" else f"{self.scheme}://{self.bucket}/{key}"


def _first_field(template: str) -> int:
    """Index of the first ``{`` that opens a field (not a doubled brace), or ``len(template)``."""
    i = 0
    while i < len(template):
        if template[i] == "{":
            if template[i + 1:i + 2] == "{":
                i += 2
                continue
            return i
        if template[i] == "}" and template[i + 1:i + 2] == "}":
            i += 2
            continue
        i += 1
    return len(template)


def _template_problem(template: str) -> str | None:
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"its template is malformed ({exc}); write literal braces as {{{{ and }}}}"
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS:
            return (f"it has the unknown field {{{field}}}; the fields are "
                    + ", ".join(f"{{{f}}}" for f in TEMPLATE_FIELDS))
        if spec or conversion:
            return f"its field {{{field}}} has a format spec or conversion; write the field alone"
    return None


def _key_problem(key: str, what: str) -> str | None:
    if not key:
        return f"it names no {what}"
    if any(part in ("", ".", "..") for part in key.split("/")):
        return f"its {what} has an empty, '.' or '..' part (or ends with '/'): it must name one object"
    if "\\" in key:
        return f"its {what} holds a backslash"
    return None


def parse(url: object) -> StorageURL:
    """The :class:`StorageURL` of ``url``.

    Raises
    ------
    ValueError
        With a phrase saying what is wrong (:func:`problem` returns it).
    """
    if not isinstance(url, str):
        raise ValueError(f"it is a {type(url).__name__}, not a str")
    if not url.strip():
        raise ValueError("it is empty")
    for i, ch in enumerate(url):
        if ch.isspace() and ch != " " or ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F:
            raise ValueError(f"it holds a control character or line break (U+{ord(ch):04X}) at position {i}")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in UNTESTED_SCHEMES:
        raise ValueError(f"{scheme}:// is not offered: it would go through the same object-store library, but it "
                         "could not be tested here (the GCS emulator that runs here answers uploads without the ETag "
                         "header the library needs); use s3://, az:// or file://")
    if scheme not in SCHEMES:
        raise ValueError(f"its scheme {parts.scheme + '://' if parts.scheme else '(none)'} is not one of "
                         + ", ".join(f"{s}://" for s in SCHEMES))
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ValueError("it has a query or fragment ('?' or '#')")
    path = unquote(parts.path)
    if scheme == "s3":
        bucket = parts.netloc
        if not _BUCKET.match(bucket) or ".." in bucket:
            raise ValueError(f"its bucket {bucket!r} is not a bucket name (3 to 63 lowercase letters, digits, "
                             "'.' and '-'; no fields)")
        template = path.lstrip("/") if path.startswith("/") else path
        what = "key"
    elif scheme == "az":
        bucket = parts.netloc
        if not _CONTAINER.match(bucket):
            raise ValueError(f"its container {bucket!r} is not a container name (3 to 63 lowercase letters, digits "
                             "and single hyphens, not at either end; no fields)")
        template, what = path.lstrip("/"), "key"
    else:
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"a file:// URL names no host (file:///<absolute path>), got host {parts.netloc!r}")
        if not path.startswith("/"):
            raise ValueError("its path is not absolute (file:///<absolute path>)")
        bucket, template, what = "", path, "path"
    problem = _template_problem(template)
    if problem is None:
        sample = template.format_map(_SAMPLE)
        problem = _key_problem(sample.lstrip("/") if scheme == "file" else sample, what)
    if problem is not None:
        raise ValueError(problem)
    return StorageURL(scheme, bucket, template)


def problem(url: object) -> str | None:
    """Why ``url`` is not a storage URL, or None (a :class:`~wf_widgets.outputs.registry.TextRule` check)."""
    try:
        parse(url)
    except ValueError as exc:
        return str(exc)
    return None


def render(target: StorageURL, *, job_id: str, tile_key: str | None, date: str, ext: str) -> str:
    """The key (``s3``) or absolute path (``file``) of one job's object: the template filled in."""
    tile = tile_key.replace(":", "_") if tile_key else NO_TILE_KEY
    return target.template.format_map({"job_id": job_id, "tile_key": tile, "date": date, "ext": ext})
