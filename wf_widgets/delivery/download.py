"""The download destination: store the encoded result; hand out a signed, expiring link."""

from __future__ import annotations

from .._context import BackendLike
from ..errors import ResultExpired, ResultMissing
from ..outputs import FORMATS
from ..outputs.codecs import decode, encode


def store(backend: BackendLike, job: dict, value: object) -> dict:
    """Encode ``value`` in the job's format and store it; returns the row's result fields."""
    fmt = job["format"]
    options = {k: v for k, v in fmt.items() if k != "type"}
    data = encode(fmt["type"], value, options)
    stored = backend.results.store(job["id"], FORMATS[fmt["type"]].extension, data)  # size and checksum too
    expires = backend.settings.time() + backend.settings.retention_days * 86400.0
    return {**stored, "result_mimetype": FORMATS[fmt["type"]].mimetype, "expires": expires}


def read_bytes(backend: BackendLike, job: dict) -> bytes:
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
    if job.get("result_deleted") and job.get("link_revoked"):
        raise ResultExpired(f"The result of job {job['id']} was deleted when its links were revoked "
                            "(job.revoke_link(delete_data=True)). Compute it again.")
    if job.get("result_deleted") or (job.get("expires") is not None and job["expires"] <= backend.settings.time()):
        raise ResultExpired(
            f"The result of job {job['id']} expired and was deleted; results are kept "
            f"{backend.settings.retention_days:g} days (WF_WIDGETS_RETENTION_DAYS). Compute it again."
        )
    return backend.results.read(backend.jobs, job)


class DownloadHandler:
    """The download destination (see :class:`~wf_widgets.delivery.handler.DestinationHandler`)."""

    link_in_worker = False
    stores_download = True  # a stored result with a signed link
    discardable = True

    def preflight(self, destination: dict, format: dict, value: object | None, backend: BackendLike) -> None:
        """Nothing to check: storing needs no configuration."""

    def recheck(self, destination: dict, format: dict, backend: BackendLike) -> None:
        """Nothing can change."""

    def deliver(self, backend: BackendLike, job: dict, value: object) -> dict:
        """Worker side: store the result (see :func:`store`)."""
        return store(backend, job, value)

    def result(self, backend: BackendLike, job: dict) -> object:
        """The decoded value for pyarrow, else the raw bytes."""
        data = read_bytes(backend, job)
        if job["format"]["type"] == "pyarrow":
            return decode("pyarrow", data)
        return data
