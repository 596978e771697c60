"""The download destination: store the encoded result; hand out a signed, expiring link."""

from __future__ import annotations

from typing import Any

from ..errors import ResultExpired, ResultMissing
from ..outputs import FORMATS
from ..outputs.codecs import decode, encode


def store(backend: Any, job: dict, value: Any) -> dict:
    """Encode ``value`` in the job's format and store it; returns the row's result fields."""
    fmt = job["format"]
    options = {k: v for k, v in fmt.items() if k != "type"}
    data = encode(fmt["type"], value, options)
    stored = backend.results.store(job["id"], FORMATS[fmt["type"]].extension, data)  # size and checksum too
    expires = backend.settings.time() + backend.settings.retention_days * 86400.0
    return {**stored, "result_mimetype": FORMATS[fmt["type"]].mimetype, "expires": expires}


def deliver(backend: Any, job: dict, value: Any) -> dict:
    """Worker side: store the result (see :func:`store`)."""
    return store(backend, job, value)


def read_bytes(backend: Any, job: dict) -> bytes:
    """The stored bytes of a finished job, checked against the size and checksum it was written with.

    Raises
    ------
    ResultMissing
        The file is missing or damaged (see :mod:`wf_widgets.delivery.results`).
    ResultExpired
        Past its expiry.
    """
    if job.get("result_deleted") and job.get("result_problem"):
        raise ResultMissing(job["result_problem"])
    if job.get("result_deleted") or (job.get("expires") is not None and job["expires"] <= backend.settings.time()):
        raise ResultExpired(
            f"The result of job {job['id']} expired and was deleted; results are kept "
            f"{backend.settings.retention_days:g} days (WF_WIDGETS_RETENTION_DAYS). Compute it again."
        )
    return backend.results.read(backend.jobs, job)


def result(backend: Any, job: dict) -> Any:
    """What ``Job.result()`` returns: the decoded value for pyarrow, else the raw bytes."""
    data = read_bytes(backend, job)
    if job["format"]["type"] == "pyarrow":
        return decode("pyarrow", data)
    return data
