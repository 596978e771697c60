"""``compute()``: prepare a job, submit it, run or wait for it, and return what its destination returns."""

from __future__ import annotations

import os
from typing import BinaryIO, TextIO

from .. import _context
from .._context import BackendLike
from ..errors import WfError
from ..values.base import bind
from .job import Job, set_relauncher
from .plan import as_value, prepare, submit


def launch(value: object, geoctx: object = None, format: object = "pyarrow", destination: object = "download",
           backend: BackendLike | None = None, *, notify: object = None, retries: int = 0) -> Job:
    """Prepare and submit a job (see :mod:`wf_widgets.jobs.plan`); returns the Job at once."""
    return submit(prepare(value, geoctx, format, destination, backend, notify=notify, retries=retries))


def relaunch(job: Job) -> Job:
    """A new job computing what ``job`` computed (:meth:`Job.resubmit`): prepared and submitted again.

    It notifies and retries as ``job`` was to.
    """
    new = submit(prepare(job.object, job.geoctx, job.format, job.destination, job._backend, notify=job.notify,
                         retries=job.retries))
    new._cache_enabled = job.cache_enabled
    return new


set_relauncher(relaunch)


def compute(value: object, geoctx: object = None, format: object = "pyarrow", destination: object = "download",
            file: str | os.PathLike | BinaryIO | None = None, timeout: float | None = None, block: bool = True,
            progress_bar: bool | TextIO | None = None, cache: bool = True, backend: BackendLike | None = None,
            notify: dict | None = None, retries: int = 0, **arguments: object) -> object:
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
    cache : bool, default True
        Accepted for the original client's code, and kept on the job (``job.cache_enabled``).
        It changes nothing here: wf_widgets keeps no cache of results between jobs, so every
        job evaluates its graph afresh (within one job, the scenes it reads are read once).
    notify : dict, optional
        Tell when the job ends for good, whatever its destination: ``{"webhook":
        "https://..."}`` POSTs a signed JSON event, ``{"email": True}`` emails the outcome
        to the user (both may be given; see :mod:`wf_widgets.delivery.notify` and
        docs/destinations.md). Checked before the job exists.
    retries : int, default 0
        Attempts after the first when an attempt fails transiently (codes TRANSIENT,
        INTERRUPT, DESTINATION from a network error), waiting ``retry_backoff_s`` seconds,
        then twice as long, ... (``job.attempts``, ``job.attempt_codes``).
    **arguments
        A value for each parameter of the graph (``wf.parameter``), by name; bound into the
        graph before the job exists. Any other keyword is a TypeError naming it.

    Returns
    -------
    object
        ``block=False``: the Job. Download + pyarrow: the decoded value; download +
        another format: bytes; email: None; catalog: the saved catalog.Image; with
        ``file=``: None.

    Raises
    ------
    WfError
        ValidationError (bad input, raised before any job exists), a JobComputeError (the
        job failed), JobTimeoutError, ...: raised from this call, without the package's
        internal frames (the traceback ends here; the message says what to fix).
    """
    try:
        return _compute(value, geoctx, format, destination, file, timeout, block, progress_bar, cache, backend,
                        notify, retries, arguments)
    except WfError as exc:  # the user's mistake, told from the call they made: the message, not our frames
        raise exc.with_traceback(None) from None


def _compute(value: object, geoctx: object, format: object, destination: object,
             file: str | os.PathLike | BinaryIO | None, timeout: float | None, block: bool,
             progress_bar: bool | TextIO | None, cache: bool, backend: BackendLike | None,
             notify: object, retries: int, arguments: dict) -> object:
    backend = backend if backend is not None else _context.current()
    value = as_value(value)
    # A blocking job on the default thread pool runs right here: the caller would only wait.
    launch = prepare(bind(value, arguments)._for_compute(), geoctx, format, destination, backend, notify=notify,
                     retries=retries)
    here = block and backend.runner.runs_here
    job = submit(launch, run_here=here)
    job._cache_enabled = bool(cache)
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
