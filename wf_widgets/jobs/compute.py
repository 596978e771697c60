"""``compute()``: validate, create the job row, run it, and return what the destination returns."""

from __future__ import annotations

import secrets
import time
from typing import Any

from ..engine import memory
from ..engine.evaluate import EvalContext, needs_geoctx
from ..errors import ValidationError, ValidationTypeError
from ..outputs.normalize import normalize, preflight
from ..values.base import Value, promote
from ..values.graph import validate
from ..values.image import check_graph
from .job import Job

IMAGE_KINDS = ("Image", "ImageCollection")


def new_job_id() -> str:
    """48 hexadecimal characters: 12 of the creation time in milliseconds, then 36 random.

    Time-ordered ids keep the job store's inserts at the end of its primary key and let
    it list recent jobs by id; 144 random bits keep them unguessable.
    """
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(18)}"


def check_geocontext(geoctx: Any, value: Value) -> Any:
    """The GeoContext of ``geoctx`` (None if the value needs none); raises if imagery lacks one."""
    if geoctx is None:
        if value.kind in IMAGE_KINDS or needs_geoctx(value.node):
            what = {"Image": "an Image", "ImageCollection": "an ImageCollection"}.get(value.kind, "this value (it reads imagery)")
            raise ValidationError(
                f"Computing {what} needs a geoctx: a DLTile (wf.DLTile.from_latlon(...)) or an AOI",
                field="geoctx", value=None)
        return None
    from ..geo import as_geocontext

    return as_geocontext(geoctx)


def as_value(value: Any) -> Value:
    """``value`` as a lazy value (plain Python values are promoted)."""
    if isinstance(value, Value):
        return value
    try:
        return promote(value)
    except TypeError:
        raise ValidationTypeError(f"compute() needs a wf value, got {type(value).__name__} {value!r}",
                                  field="value", value=value) from None


def check_memory(value: Value, geoctx: Any, backend: Any) -> None:
    """Refuse ``value`` if computing it in ``geoctx`` needs more than ``max_memory`` by the estimate.

    Imagery is estimated with the catalog (the scenes intersecting ``geoctx``); a graph
    without imagery only for its Arrays (the catalog is not opened).
    """
    ctx = EvalContext.for_backend(backend, geoctx) if geoctx is not None and needs_geoctx(value.node) else None
    memory.check(value.node, ctx, backend.settings.max_memory)


def launch(value: Any, geoctx: Any = None, format: Any = "pyarrow", destination: Any = "download",
           backend: Any = None, submit: bool = True) -> Job:
    """Validate (the graph, normalize, preflight, memory), create the job row and submit it; returns the Job.

    Every check runs before the row exists: a ValidationError here leaves no trace. With
    ``submit=False`` the row is created claimed by this process, for the caller to run
    (``Job._run_here``).
    """
    value = as_value(value)
    if backend is None:
        from ..backend import get_backend

        backend = get_backend()
    validate(value.node)
    check_graph(value, backend)  # the static checks with the catalog (products, access, bands), before any row
    dest, fmt = normalize(destination, format, value.kind)
    ctx = check_geocontext(geoctx, value)
    preflight(dest, fmt, value, backend)
    check_memory(value, ctx, backend)
    job_id = new_job_id()
    row = backend.jobs.create(job_id, kind=value.kind, graph=value.to_json(),
                              geoctx=ctx.to_dict() if ctx is not None else None, format=fmt, destination=dest,
                              label=getattr(ctx, "key", None), claim=not submit)
    job = Job(job_id, backend, _row=row)
    if submit:
        backend.runner.submit(job_id)
    return job


def compute(value: Any, geoctx: Any = None, format: Any = "pyarrow", destination: Any = "download",
            file: Any = None, timeout: float | None = None, block: bool = True, progress_bar: Any = None,
            backend: Any = None) -> Any:
    """Compute ``value`` and deliver it.

    Parameters
    ----------
    value : Value
        What to compute (plain Python values are promoted).
    geoctx : DLTile, AOI or dict, optional
        Where to compute imagery; required for Image and ImageCollection.
    format : str or dict
        ``"pyarrow"`` (default), ``"json"``, ``"msgpack"``, ``"geotiff"`` or a dict with
        ``"type"`` and options.
    destination : str, dict or catalog.Image
        ``"download"`` (default), ``"email"``, a catalog.Image, or a dict with ``"type"``.
    file : path or binary file-like, optional
        Write the encoded result there instead of returning it.
    timeout : float, optional
        Seconds to wait; past it the job is cancelled and JobTimeoutError raised.
    block : bool
        False returns the :class:`Job` at once.
    progress_bar : bool, file-like or None
        None: on in a notebook, off elsewhere.

    Returns
    -------
    object
        ``block=False``: the Job. Download + pyarrow: the decoded value; download +
        another format: bytes; email: None; catalog: the saved catalog.Image; with
        ``file=``: None.
    """
    if backend is None:
        from ..backend import get_backend

        backend = get_backend()
    # A blocking job on the default thread pool runs right here: the caller would only wait.
    value = as_value(value)
    here = block and backend.runner.runs_here
    job = launch(value, geoctx, format, destination, backend, submit=not here)
    if not block:
        return job
    if here:
        job._run_here(value.node, timeout, progress_bar)
    else:
        job.wait(timeout, progress_bar)
    if file is not None:
        job.result_to_file(file)
        return None
    if job.destination["type"] == "email":  # the data went by email; it is not loaded here
        if job.error is not None:
            raise job.error
        return None
    return job.result()
