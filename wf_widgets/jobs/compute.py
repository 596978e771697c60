"""``compute()``: prepare a job, submit it, run or wait for it, and return what its destination returns."""

from __future__ import annotations

import os
from typing import BinaryIO, TextIO

from .. import _context
from .._context import BackendLike
from ..values.base import bind
from .job import Job
from .plan import as_value, prepare, submit


def launch(value: object, geoctx: object = None, format: object = "pyarrow", destination: object = "download",
           backend: BackendLike | None = None) -> Job:
    """Prepare and submit a job (see :mod:`wf_widgets.jobs.plan`); returns the Job at once."""
    return submit(prepare(value, geoctx, format, destination, backend))


def compute(value: object, geoctx: object = None, format: object = "pyarrow", destination: object = "download",
            file: str | os.PathLike | BinaryIO | None = None, timeout: float | None = None, block: bool = True,
            progress_bar: bool | TextIO | None = None, backend: BackendLike | None = None, **arguments: object) -> object:
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
    **arguments
        A value for each parameter of the graph (``wf.parameter``), by name; bound into the
        graph before the job exists. Any other keyword is a TypeError naming it.

    Returns
    -------
    object
        ``block=False``: the Job. Download + pyarrow: the decoded value; download +
        another format: bytes; email: None; catalog: the saved catalog.Image; with
        ``file=``: None.
    """
    backend = backend if backend is not None else _context.current()
    value = as_value(value)
    # A blocking job on the default thread pool runs right here: the caller would only wait.
    launch = prepare(bind(value, arguments)._for_compute(), geoctx, format, destination, backend)
    here = block and backend.runner.runs_here
    job = submit(launch, run_here=here)
    if not block:
        return job
    if here:
        job._run_here(launch.value.node, timeout, progress_bar)
    else:
        job.wait(timeout, progress_bar)
    if file is not None:
        job.result_to_file(file)
        return None
    if job.destination["type"] == "email":  # the data went by email; it is not loaded here
        if job.error is not None:
            raise job.error
        return None
    return value._unmarshal(job.result())  # a Tuple's list as a tuple, ...
