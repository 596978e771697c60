"""Exceptions and warnings of wf_widgets.

One root, :class:`WfError`. Errors that match a builtin also subclass it
(``ValidationError`` is a ``ValueError``, ``PermissionDenied`` a ``PermissionError``),
so ``except ValueError`` keeps working. Job failures carry an error *code*; the
:data:`CODES` table maps each code to the exception class :meth:`Job.result` raises.
"""

from __future__ import annotations

import errno as _errno
from typing import Any, Iterable


class WfError(Exception):
    """Root of every error raised by wf_widgets."""


class WfWarning(UserWarning):
    """Root of every warning issued by wf_widgets."""


def _fmt_allowed(allowed: Iterable[Any]) -> str:
    return ", ".join(repr(a) for a in allowed)


class ValidationError(WfError, ValueError):
    """Bad input, found before any work starts.

    Parameters
    ----------
    message : str
        The full message.
    field : str, optional
        The name of the offending field (``"format"``, ``"destination.subject"``, ...).
    value : object, optional
        The bad value.
    allowed : sequence, optional
        The allowed values, when there is a finite set of them.
    """

    def __init__(self, message: str, field: str | None = None, value: Any = None, allowed: Iterable[Any] | None = None):
        super().__init__(message)
        self.field = field
        self.value = value
        self.allowed = tuple(allowed) if allowed is not None else None

    @classmethod
    def bad_value(cls, field: str, value: Any, allowed: Iterable[Any], what: str = "value") -> "ValidationError":
        """Build the standard "unknown value" error naming field, value and allowed values."""
        allowed = tuple(allowed)
        return cls(
            f"Unknown {what} {value!r} for {field!r}; allowed: {_fmt_allowed(allowed)}",
            field=field,
            value=value,
            allowed=allowed,
        )


class ValidationTypeError(ValidationError, TypeError):
    """A value of the wrong Python type (also a ``TypeError``)."""


class GraphTypeError(WfError, TypeError):
    """An operation on lazy values whose types don't fit, raised while building the graph."""


class PermissionDenied(WfError, PermissionError):
    """The configured user may not read or write the object."""


class NotFound(ValidationError, LookupError):
    """An id that names nothing (product, image, job)."""


class ResultExpired(WfError):
    """The stored result of a job has expired and was (or will be) deleted."""


class JobTimeoutError(WfError, TimeoutError):
    """Waiting for a job took longer than the timeout; the job was cancelled."""


class JobComputeError(WfError):
    """A job failed; ``.code`` is its error code, ``.job_id`` its id."""

    code = "UNKNOWN"

    def __init__(self, message: str, job_id: str | None = None, code: str | None = None):
        super().__init__(message)
        self.job_id = job_id
        if code is not None:
            self.code = code


class JobInvalid(JobComputeError):
    code = "INVALID"


class JobDeadlineExceeded(JobComputeError):
    code = "DEADLINE"


class JobOOM(JobComputeError):
    code = "OOM"


class JobInterrupt(JobComputeError):
    code = "INTERRUPT"


class JobTerminated(JobComputeError):
    code = "TERMINATED"


class JobAuthError(JobComputeError):
    code = "AUTH"


class JobTypeError(JobComputeError):
    code = "TYPING"


class JobSerializationError(JobComputeError):
    code = "SERIALIZATION"


class JobDestination(JobComputeError):
    """The destination could not take the result.

    Attributes
    ----------
    stored : dict or None
        The result fields of a download stored before the failure (an email that could not
        be sent keeps its stored result, so ``job.url`` still works); None when nothing was
        stored.
    """

    code = "DESTINATION"

    def __init__(self, message: str, job_id: str | None = None, code: str | None = None,
                 stored: dict | None = None):
        super().__init__(message, job_id=job_id, code=code)
        self.stored = stored


class JobTransient(JobComputeError):
    code = "TRANSIENT"


class JobCancelled(JobComputeError):
    code = "CANCELLED"


#: Error code -> exception class raised by ``Job.result()``.
CODES: dict[str, type[JobComputeError]] = {
    "UNKNOWN": JobComputeError,
    "INVALID": JobInvalid,
    "DEADLINE": JobDeadlineExceeded,
    "OOM": JobOOM,
    "INTERRUPT": JobInterrupt,
    "TERMINATED": JobTerminated,
    "AUTH": JobAuthError,
    "TYPING": JobTypeError,
    "SERIALIZATION": JobSerializationError,
    "DESTINATION": JobDestination,
    "TRANSIENT": JobTransient,
    "CANCELLED": JobCancelled,
}
ERROR_CODES = ("NONE",) + tuple(c for c in CODES if c != "CANCELLED")


def code_for(exc: BaseException) -> str:
    """The job error code for an exception raised while running a job."""
    if isinstance(exc, JobComputeError):
        return exc.code
    if isinstance(exc, DiskFull):  # freeing space is enough to run it again
        return "TRANSIENT"
    if isinstance(exc, MemoryError):
        return "OOM"
    if isinstance(exc, PermissionDenied):
        return "AUTH"
    if isinstance(exc, (ValidationError, LookupError, ValueError, ZeroDivisionError, ArithmeticError)):
        return "INVALID"
    if isinstance(exc, TypeError):
        return "TYPING"
    return "UNKNOWN"


def exception_for(code: str, message: str, job_id: str | None = None) -> JobComputeError:
    """The exception ``Job.result()`` raises for a failed job."""
    return CODES.get(code, JobComputeError)(message, job_id=job_id, code=code)


class SigningKeyError(WfError):
    """The signing key file of the home folder cannot be used (too short)."""


class SigningKeyWarning(WfWarning):
    """The signing key file can be read by other users (group or world readable)."""


class ResultMissing(ResultExpired):
    """The stored result of a job is missing or damaged before its expiry (deleted or truncated).

    A subclass of :class:`ResultExpired`, so ``except ResultExpired`` covers both: either
    way the result is gone and must be computed again.
    """


class StoreCorrupted(WfError):
    """A SQLite store of the home folder (jobs, catalog, layers) is damaged and cannot be read.

    ``.path`` is the file; ``.code`` is ``"STORE_CORRUPTED"``. ``wf-widgets doctor --repair``
    moves the file aside so that a new, empty store is made at next use.
    """

    code = "STORE_CORRUPTED"

    def __init__(self, message: str, path: Any = None):
        super().__init__(message)
        self.path = path


class DiskFull(WfError, OSError):
    """The disk holding the home folder is full (SQLITE_FULL, or ``OSError`` ENOSPC).

    ``.path`` is the folder that could not be written; ``.code`` is ``"DISK_FULL"`` and
    ``.errno`` is ``errno.ENOSPC``. Nothing is left half-written: freeing space is enough
    to carry on. A job that meets it fails with code TRANSIENT.
    """

    code = "DISK_FULL"

    def __init__(self, message: str, path: Any = None):
        super().__init__(message)
        self.errno = _errno.ENOSPC
        self.path = path

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    @classmethod
    def in_folder(cls, folder: Any) -> "DiskFull":
        """The error for a write that found no space in ``folder``."""
        return cls(f"No space left on the disk of {folder}: free some space there (nothing was half-written; "
                   "the next try works once there is room).", path=folder)


class NoBackendFactory(WfError, RuntimeError):
    """No backend can be made: :mod:`wf_widgets.backend` has not registered its factory yet."""


class EmailResultNotLoaded(WfError):
    """``Job.result()`` of an email job: the data went by link and is not loaded into the notebook."""


class DatabaseUnavailable(WfError):
    """The database of ``WF_WIDGETS_DATABASE_URL`` cannot be reached (or its driver is not installed).

    ``.where`` is the URL without its password; ``.code`` is ``"DATABASE_UNAVAILABLE"``.
    """

    code = "DATABASE_UNAVAILABLE"

    def __init__(self, message: str, where: str | None = None):
        super().__init__(message)
        self.where = where


class TypeParametersError(GraphTypeError, AssertionError):
    """Wrong type parameters for a generic value type (``wf.List[wf.Str, wf.Int]``, ``wf.Dict[wf.Str]``),
    or a generic type used where a parametrised one is needed (``any_value.cast(wf.Tuple)``).

    Also an ``AssertionError``: the original client raised that for these cases.
    """


class GraphIndexError(WfError, IndexError):
    """An index known while the graph is built is out of range (``wf.Tuple[wf.Int, wf.Str](...)[4]``)."""
