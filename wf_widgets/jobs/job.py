"""Job: the handle of one computation, backed by its row in the job store.

A Job reads its row (``refresh()``); it works the same from the process that launched
it and from any other process sharing the home folder or the database (``Job.get(id)``).
A user gets only the jobs they launched (and those of rows made before owners were
recorded): someone else's id is as unknown as a missing one.

The original client's Job API is here too: ``wait()`` raises the job's error (or
:class:`~wf_widgets.errors.JobTimeoutError`), ``watch()`` yields the job as it changes,
``resubmit()`` launches it again, and ``object``, ``type``, ``result_type``, ``geoctx``,
``arguments``, ``cache_enabled``, ``runtime``, ``version``, ``created_datetime``,
``updated_datetime``, ``cancelled``. What differs from the original is listed in
docs/compat.md.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, TextIO

from .. import _context
from .._cards import job_card
from .._context import TERMINAL, BackendLike
from .._db import describe
from .._version import __version__
from ..delivery import HANDLERS
from ..delivery.download import read_bytes
from ..delivery.links import result_url
from ..delivery.storage_dest import read_object
from ..errors import (
    JobCancelled,
    JobTimeoutError,
    NotFound,
    ResultExpired,
    ResultMissing,
    ValidationError,
    exception_for,
)
from ..geo import GeoContext, geocontext_from_dict
from ..values.base import Value
from ..values.graph import Node
from .progress import ProgressBar, in_notebook, progress_line
from .runner import TIMED_OUT, notify_after, resume_due
from .store import ID_CHARS, JobStore, finished_event, forget_event, short_id, worker_dead

#: Seconds between checks, while waiting, that the job's worker is still alive.
REAP_CHECK_S = 1.0

#: ``relaunch(job) -> Job``: prepare and submit again what ``job`` computed, through the one
#: launch pipeline (:mod:`wf_widgets.jobs.plan`). Registered by :mod:`wf_widgets.jobs.compute`,
#: which imports both this module and the pipeline (the pipeline imports this module, so it
#: can't be imported here); the ``wf_widgets.jobs`` package imports it before anyone gets a Job.
_relaunch: Callable[["Job"], "Job"] | None = None


def set_relauncher(relaunch: Callable[["Job"], "Job"]) -> None:
    """Register the function :meth:`Job.resubmit` launches with (see :data:`_relaunch`)."""
    global _relaunch
    _relaunch = relaunch


class _Timeout(Exception):
    """Raised by :meth:`Job._follow` once its timeout passed."""


#: Bases of links whose note (they work only while this process runs) was printed.
_noted: set[str] = set()

#: Matches listed by the error of an ambiguous :meth:`Job.get`.
MATCHES_SHOWN = 5


def _match_line(row: dict) -> str:
    created = _dt.datetime.fromtimestamp(row["created"], tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return f"  {short_id(row['id'])}  {row['id']}  {row['stage']:<9}  {created} UTC  {row.get('label') or ''}".rstrip()


def _poll_interval(elapsed: float) -> float:
    # Quick at first (short jobs), then gentle; in-process completion wakes us at once.
    return min(0.01 + elapsed / 10.0, 0.25)


class Job:
    """A computation launched by ``compute()``.

    Attributes
    ----------
    id : str
        48 hexadecimal characters.
    stage : str
        QUEUED, PREPARING, RUNNING, SAVING, SUCCEEDED, FAILED or CANCELLED (as of the last refresh).
    steps_done, steps_total : int
    format, destination : dict
        Their normal forms.
    object : Value
        What the job computes (rebuilt from its stored graph for a job of another process).
    geoctx : GeoContext or None
    """

    #: Set by :meth:`_launched` for a job this process launched; the job store keeps neither.
    _object: Value | None = None
    _cache_enabled: bool = True
    _version: str | None = None

    def __init__(self, job_id: str, backend: BackendLike | None = None, _row: dict | None = None):
        if backend is None:
            backend = _context.current()
        self._backend = backend
        self.id = job_id
        self._row = _row if _row is not None else backend.jobs.get(job_id, graph=False)
        if self._row is None or (_row is None and not JobStore.visible(self._row, backend.settings.user)):
            # Someone else's job is as unknown as a missing one (the same message: nothing tells them apart).
            raise NotFound(f"No job with id {job_id!r} in {describe(backend.settings)}", field="job_id", value=job_id)
        if _row is None and self._row["stage"] not in TERMINAL and worker_dead(self._row, backend.settings.time()):
            # Whoever opens a job whose worker died sees it ended (no sweep needed).
            backend.jobs.reap_stale([job_id])
            self._row = backend.jobs.get(job_id, graph=False)
        # Set when the job ends in this process; made now so an end before wait() is not missed.
        self._event = finished_event(job_id) if self._row["stage"] not in TERMINAL else None

    @classmethod
    def get(cls, job_id: str, backend: BackendLike | None = None) -> "Job":
        """The job named by ``job_id`` (from any process sharing the home folder or the database).

        Parameters
        ----------
        job_id : str
            The whole id, any prefix of it that only one job has, or the start of its random
            part (what the jobs board and ``wf-widgets jobs`` show, :attr:`short_id`).

        Raises
        ------
        NotFound
            No job matches (another user's job is as unknown as a missing one).
        ValidationError
            Several match (the message lists a few of them).
        """
        try:
            return cls._get(job_id, backend)
        except ValidationError as exc:  # told from the call made, not from the store's frames
            raise exc.with_traceback(None) from None

    @classmethod
    def _get(cls, job_id: str, backend: BackendLike | None) -> "Job":
        if backend is None:
            backend = _context.current()
        if isinstance(job_id, str):  # a whole id, whatever its shape (someone else's is as unknown as a missing one)
            row = backend.jobs.get(job_id, graph=False)
            if row is not None and JobStore.visible(row, backend.settings.user):
                return cls(job_id, backend)  # (reads it again: a job whose worker died is reaped there)
        try:
            ids, total = backend.jobs.find_ids(job_id, limit=MATCHES_SHOWN, owner=backend.settings.user)
        except ValidationError:
            raise NotFound(f"No job with id {job_id!r} in {describe(backend.settings)}: job ids, and the fragments "
                           "of them `wf-widgets jobs` shows, are hexadecimal digits (0-9, a-f)",
                           field="job_id", value=job_id) from None
        if total == 1:
            return cls(ids[0], backend)
        if total == 0:
            fragment = " (or an id or id fragment starting so)" if len(job_id) < ID_CHARS else ""
            raise NotFound(f"No job with id {job_id!r}{fragment} in {describe(backend.settings)}",
                           field="job_id", value=job_id)
        rows = backend.jobs.many(ids)
        shown = "\n".join(_match_line(rows[i]) for i in ids if i in rows)
        more = f"\n  ... and {total - len(ids)} more" if total > len(ids) else ""
        raise ValidationError(f"{job_id!r} matches {total} jobs; give more of the id:\n{shown}{more}",
                              field="job_id", value=job_id)

    def _launched(self, value: Value, cache: bool = True) -> "Job":
        """Record what only the launching process knows: the value object, the cache flag, the version."""
        self._object = value
        self._cache_enabled = bool(cache)
        self._version = __version__
        return self

    # -- state ----------------------------------------------------------------------------
    def refresh(self) -> "Job":
        """Re-read the row."""
        status = self._backend.jobs.status(self.id)
        if status["stage"] in TERMINAL and self._row["stage"] not in TERMINAL:
            self._row = self._backend.jobs.get(self.id, graph=False)
        else:
            self._row.update(status)
        return self

    @property
    def short_id(self) -> str:
        """The start of the id's random part: what tells this job apart from jobs launched with it.

        (Ids begin with their creation time, the same for jobs launched together.)
        :meth:`get` accepts it.
        """
        return short_id(self.id)

    @property
    def stage(self) -> str:
        return self._row["stage"]

    @property
    def done(self) -> bool:
        """True once SUCCEEDED, FAILED or CANCELLED (as of the last refresh)."""
        return self._row["stage"] in TERMINAL

    @property
    def steps_done(self) -> int:
        return self._row["steps_done"]

    @property
    def steps_total(self) -> int:
        return self._row["steps_total"]

    @property
    def format(self) -> dict:
        return self._row["format"]

    @property
    def destination(self) -> dict:
        return self._row["destination"]

    @property
    def kind(self) -> str:
        return self._row["kind"]

    @property
    def label(self) -> str | None:
        """A short description of where it was computed (the DLTile key)."""
        return self._row.get("label")

    @property
    def notify(self) -> dict | None:
        """What it sends when it ends for good (``{"webhook": url or None, "email": bool}``), or None."""
        return self._row.get("notify")

    @property
    def notify_state(self) -> str | None:
        """Its notification: None (none due yet), PENDING, SENDING, SENT or FAILED (``notify_error`` in the row)."""
        return self._row.get("notify_state")

    @property
    def retries(self) -> int:
        """Attempts after the first a transient failure gets (``compute(retries=...)``)."""
        return self._row.get("retries") or 0

    @property
    def attempts(self) -> int:
        """Attempts started so far (1, then one more per retry)."""
        return self._row.get("attempts") or 1

    @property
    def attempt_codes(self) -> list[str]:
        """The error code of each ended attempt, oldest first (``NONE`` for a success, ``CANCELLED``)."""
        return list(self._row.get("attempt_codes") or [])

    @property
    def error(self) -> Exception | None:
        """The exception ``result()`` raises for a failed or cancelled job, else None."""
        if self._row["stage"] == "FAILED":
            return exception_for(self._row["error_code"], self._row["error_message"] or "", self.id)
        if self._row["stage"] == "CANCELLED":
            return JobCancelled(f"Job {self.id} was cancelled", job_id=self.id)
        return None

    @property
    def cancelled(self) -> bool:
        """Whether the job was cancelled (as of the last refresh)."""
        return self._row["stage"] == "CANCELLED"

    @property
    def created_datetime(self) -> _dt.datetime:
        """When the job was created (UTC)."""
        return _dt.datetime.fromtimestamp(self._row["created"], tz=_dt.timezone.utc)

    @property
    def updated_datetime(self) -> _dt.datetime:
        """When the job's row last changed (UTC; as of the last refresh)."""
        return _dt.datetime.fromtimestamp(self._row["updated"], tz=_dt.timezone.utc)

    @property
    def runtime(self) -> _dt.timedelta | None:
        """How long the job took, from its creation to its end; None until it ended."""
        if self._row["stage"] not in TERMINAL or self._row.get("finished") is None:
            return None
        finished = _dt.datetime.fromtimestamp(self._row["finished"], tz=_dt.timezone.utc)
        return finished - self.created_datetime  # as datetimes: equal to updated - created of an ended job

    # -- what it computes -----------------------------------------------------------------
    @property
    def object(self) -> Value:
        """The value this job computes (the stored graph, checked as it is loaded, for a job of another process)."""
        if self._object is None:
            row = self._backend.jobs.get(self.id, graph=True)
            self._object = Value.from_json(row["graph"])
        return self._object

    @property
    def type(self) -> type:
        """The class of :attr:`object` (``wf.Int``, ``wf.Image``, ...)."""
        return type(self.object)

    @property
    def result_type(self) -> str:
        """The name of the type of the result (``"Int"``, ``"Image"``, ...)."""
        return self._row["kind"]

    @property
    def geoctx(self) -> GeoContext | None:
        """The GeoContext the job computes in, or None."""
        if "_geoctx" not in self.__dict__:
            d = self._row.get("geoctx")
            self.__dict__["_geoctx"] = geocontext_from_dict(d) if d is not None else None
        return self.__dict__["_geoctx"]

    @property
    def arguments(self) -> dict[str, Any]:
        """The values given for the parameters of :attr:`object`: always ``{}`` (wf_widgets graphs have no parameters)."""
        return {}

    @property
    def cache_enabled(self) -> bool:
        """The ``cache=`` the job was launched with (True for jobs of other processes; see ``compute``)."""
        return self._cache_enabled

    @property
    def version(self) -> str | None:
        """The wf_widgets version that launched the job, or None when another process did (the store keeps none)."""
        return self._version

    @property
    def expires_datetime(self) -> _dt.datetime | None:
        """When the stored result expires (None before it is stored)."""
        exp = self._row.get("expires")
        return _dt.datetime.fromtimestamp(exp, tz=_dt.timezone.utc) if exp is not None else None

    @property
    def url(self) -> str | None:
        """Signed download link of the stored result (None until it is stored, and once revoked).

        The first link of a process that only this process serves (no
        ``WF_WIDGETS_PUBLIC_URL``, Jupyter extension or ``wf-widgets serve``) comes with a
        note on stderr: it works only while the process runs.
        """
        if self._row.get("expires") is None:
            self.refresh()
        if self._row.get("expires") is None or not self._row.get("result_path") or self._row.get("link_revoked"):
            return None
        base = self._row.get("link_base") or self._backend.link_base()
        note = self._row.get("link_note") if self._row.get("link_base") else self._backend.link_note()
        if note and base not in _noted:
            _noted.add(base)
            print(f"wf_widgets: {note}", file=sys.stderr, flush=True)
        self._backend.jobs.write_held((self.id,))  # a link leaving the process names a row any server can read
        return result_url(self._backend.signer, base, self.id, self._row["expires"])

    @property
    def object_url(self) -> str | None:
        """The URL of the object a storage job wrote (what ``compute()`` returns), else None."""
        ref = self._row.get("result_ref")
        return ref.get("url") if isinstance(ref, dict) and self.destination.get("type") == "storage" else None

    @property
    def result_size(self) -> int | None:
        """Bytes of the encoded result (stored or written), once the job succeeded."""
        return self._row.get("result_size")

    @property
    def link_revoked(self) -> bool:
        """Whether :meth:`revoke_link` revoked the job's download links (as of the last refresh)."""
        return bool(self._row.get("link_revoked"))

    # -- the link's lifecycle ------------------------------------------------------------------
    def _linked_row(self, action: str) -> dict:
        """The fresh row of this finished job, which must have a stored result (a download link)."""
        self._check()
        row = self._backend.jobs.get(self.id, graph=False)
        self._row = row
        if not row.get("result_path"):
            kind = row["destination"]["type"]
            raise ValidationError(
                f"Job {self.id} has no download link to {action}: its {kind} destination keeps no stored result; "
                "only download and email results have links", field="destination", value=kind,
                allowed=("download", "email"))
        return row

    def revoke_link(self, delete_data: bool = False) -> None:
        """Make every download link of this job stop working at once, in every server sharing its store.

        The row records the revocation (``link_revoked``); servers read it with the row on
        every request and answer 410. Idempotent. A revoked link can't be renewed.

        Parameters
        ----------
        delete_data : bool
            Also delete the stored result now (else it stays until its expiry, and
            :meth:`result` and :meth:`result_to_file` still read it here).

        Raises
        ------
        ValidationError
            The job has not ended, or its destination keeps no stored result (storage, catalog).
        JobComputeError, JobCancelled
            The job failed or was cancelled (it has no result).
        """
        row = self._linked_row("revoke")
        self._backend.jobs.revoke_link(self.id)
        if delete_data and not row.get("result_deleted"):
            self._backend.results.delete(row["result_path"])
            self._backend.jobs.mark_deleted(self.id)
        self._row = self._backend.jobs.get(self.id, graph=False)

    def renew_link(self, days: float | None = None) -> str:
        """A new expiry for the stored result and its links, ``days`` from now; returns the new link.

        The expiry is the row's (the sweep deletes the data then, and every server refuses
        links past it), so it may also shorten it; links handed out before keep working until
        the earlier of their own expiry and the new one.

        Parameters
        ----------
        days : float, optional
            Days from now, above 0 and at most ``max_link_days`` (``WF_WIDGETS_MAX_LINK_DAYS``,
            default 30). Default: the retention period (``retention_days``), capped by that maximum.

        Raises
        ------
        ValidationError
            A bad ``days``; the job has not ended, keeps no stored result, or its links were revoked.
        ResultExpired, ResultMissing
            The data no longer exists (expired and deleted, or lost).
        """
        settings = self._backend.settings
        maximum = settings.max_link_days
        if days is None:
            days = min(settings.retention_days, maximum)
        if isinstance(days, bool) or not isinstance(days, (int, float)) or not 0 < days <= maximum:
            raise ValidationError(
                f"days must be a number of days above 0 and at most {maximum:g} (WF_WIDGETS_MAX_LINK_DAYS), "
                f"got {days!r}", field="days", value=days, allowed=(f"0 < days <= {maximum:g}",))
        row = self._linked_row("renew")
        if row.get("link_revoked"):
            raise ValidationError(f"The links of job {self.id} were revoked; a revoked link can't be renewed. "
                                  "Compute the result again for a new link.", field="job", value="revoked")
        if row.get("result_deleted") and row.get("result_problem"):
            raise ResultMissing(row["result_problem"])
        expired = ResultExpired(f"The result of job {self.id} expired and was deleted; only a result that still "
                                "exists can have its link renewed. Compute it again.")
        if row.get("result_deleted") or row["expires"] <= settings.time():
            raise expired
        if not self._backend.jobs.renew_link(self.id, settings.time() + float(days) * 86400.0):
            raise expired  # expired, deleted or revoked meanwhile
        self._row = self._backend.jobs.get(self.id, graph=False)
        return self.url

    # -- waiting --------------------------------------------------------------------------
    def _follow(self, timeout: float | None) -> Iterator["Job"]:
        """Yield this job now and each time its stage or steps change, until it ended.

        Raises :class:`_Timeout` once ``timeout`` seconds passed. A job run by this process
        wakes the loop when it ends; others are polled (quickly at first, then every 0.25 s),
        and about every :data:`REAP_CHECK_S` seconds the job's worker is checked
        (``JobStore.reap_stale``): if it died, the job ends FAILED with code INTERRUPT.
        """
        event = self._event or finished_event(self.id)
        start = time.monotonic()
        checked = start
        last = None
        try:
            while True:
                state = (self.stage, self.steps_done, self.steps_total)
                if state != last:
                    last = state
                    yield self
                if self.done:
                    return
                elapsed = time.monotonic() - start
                if timeout is not None and elapsed >= timeout:
                    raise _Timeout()
                wait_s = _poll_interval(elapsed)
                if timeout is not None:
                    wait_s = min(wait_s, max(timeout - elapsed, 0.0))
                if event.wait(wait_s):  # the final row comes with it when the worker had it at hand
                    self._row = dict(event.row) if event.row is not None else self._backend.jobs.get(self.id, graph=False)
                elif self._backend.jobs.holds(self.id):  # run by this process, unwritten: the event will tell
                    continue
                else:
                    if time.monotonic() - checked >= REAP_CHECK_S:  # is its worker still alive?
                        checked = time.monotonic()
                        if self._backend.jobs.reap_stale([self.id]):
                            self.refresh()
                            notify_after(self._backend, self._row)  # it ended for good: tell
                        resume_due(self._backend, [self.id])  # its next attempt, if due and nobody runs it
                    self.refresh()
        finally:
            forget_event(self.id, event)

    def watch(self, timeout: float | None = None) -> Iterator["Job"]:
        """Yield this job each time its stage or progress changes, until it ends.

        The first item is the job as it is now; the last is the job in its final stage.

        Parameters
        ----------
        timeout : float, optional
            Seconds to watch; past them :class:`~wf_widgets.errors.JobTimeoutError` is raised
            (the job is not cancelled: watching does not own it).

        Examples
        --------
        >>> for job in wf.Int(1).compute(block=False).watch():   # doctest: +SKIP
        ...     print(job.stage, job.steps_done, job.steps_total)
        """
        try:
            yield from self._follow(timeout)
        except _Timeout:
            raise JobTimeoutError(f"Stopped watching job {self.id} after {timeout} s; it is still {self.stage} "
                                  "(it was not cancelled)") from None

    def wait(self, timeout: float | None = None, progress_bar: bool | TextIO | None = False,
             cancel_on_timeout: bool = True, cancel_on_interrupt: bool = True) -> "Job":
        """Block until the job ends; raise its error if it failed or was cancelled.

        Parameters
        ----------
        timeout : float, optional
            Seconds; past them JobTimeoutError is raised (and the job cancelled, see below).
        progress_bar : bool, file-like or None
            Where to draw progress (see :class:`~wf_widgets.jobs.progress.ProgressBar`).
        cancel_on_timeout : bool, default True
            Cancel the job when the timeout passes.
        cancel_on_interrupt : bool, default True
            Cancel the job on Ctrl-C (KeyboardInterrupt, re-raised).

        Returns
        -------
        Job
            This job, SUCCEEDED.

        Raises
        ------
        JobComputeError
            The job FAILED: the subclass of its error code (``job.error``), e.g. JobInvalid.
        JobCancelled
            The job was cancelled.
        JobTimeoutError
            The timeout passed first.

        About every :data:`REAP_CHECK_S` seconds the job's worker is checked: if it died,
        the job ends FAILED with code INTERRUPT and JobInterrupt is raised.
        """
        if self.done:  # ended already (a job run here, one waited for): nothing to follow or draw
            if self._event is not None:
                forget_event(self.id, self._event)
            error = self.error
            if error is not None:
                raise error
            return self
        bar = ProgressBar(progress_bar)
        drawing = True
        try:
            for _ in self._follow(timeout):
                if drawing:
                    bar.update(self.id, self.steps_done, self.steps_total, self.stage)
        except _Timeout:
            if cancel_on_timeout:
                bar.note(f"Cancelling job {self.id}")
                self.cancel()
            raise self._timeout_error(timeout, cancelled=cancel_on_timeout) from None
        except KeyboardInterrupt:
            if cancel_on_interrupt:
                bar.note(f"Cancelling job {self.id}")
                self.cancel()
            raise
        finally:
            bar.close()
        error = self.error
        if error is not None:
            raise error
        return self

    def _timeout_error(self, timeout: float | None, cancelled: bool = True) -> JobTimeoutError:
        return JobTimeoutError(f"Job {self.id} did not finish within {timeout} s"
                               + (" and was cancelled" if cancelled else "; it goes on (not cancelled)"))

    def _run_here(self, node: Node | None, timeout: float | None = None, progress_bar: bool | TextIO | None = False) -> "Job":
        """Run this job, created claimed, in the calling thread (``compute(block=True)`` on the default runner).

        Same contract as :meth:`wait`: progress drawn, a timeout cancels and raises
        JobTimeoutError, Ctrl-C cancels and re-raises.
        """
        bar = ProgressBar(progress_bar)
        bar.update(self.id, self.steps_done, self.steps_total, self.stage)
        try:
            draw = (lambda stage, done, total: bar.update(self.id, done, total, stage)) if bar.target is not None else None
            self._row = self._backend.runner.run_here(self._row, timeout, on_progress=draw, node=node)
        except KeyboardInterrupt:
            self._row = self._backend.jobs.get(self.id, graph=False)
            raise
        finally:
            bar.update(self.id, self.steps_done, self.steps_total, self.stage)
            bar.close()
        if self.stage == "CANCELLED" and self._row["error_message"] == TIMED_OUT:
            raise self._timeout_error(timeout)
        return self

    def resubmit(self) -> "Job":
        """Launch what this job computed again, as a new job (its value, geoctx, format, destination, cache).

        It goes through the one launch pipeline (every check again, as ``compute()``), so a
        destination that needs something (a catalog product, e-mail settings) is checked anew.

        Returns
        -------
        Job
            The new job, already submitted.
        """
        if _relaunch is None:  # wf_widgets.jobs imports compute, which registers it
            raise RuntimeError("wf_widgets.jobs.compute was not imported: nothing to launch with")
        return _relaunch(self)

    def cancel(self) -> bool:
        """Ask the job to stop (works across processes); False if it had already ended."""
        ok = self._backend.jobs.request_cancel(self.id)
        self.refresh()
        return ok

    # -- results --------------------------------------------------------------------------
    def _check(self) -> None:
        if not self.done:
            self.refresh()
        if not self.done:
            raise ValidationError(f"Job {self.id} is still {self.stage}; call wait() first", field="job", value=self.stage)
        err = self.error
        if err is not None:
            raise err

    def result(self, timeout: float | None = None, progress_bar: bool | TextIO | None = False) -> object:
        """Wait, then return what the destination returns (see ``compute()``)."""
        self.wait(timeout, progress_bar)
        self._check()
        return HANDLERS[self.destination["type"]].result(self._backend, self._row)

    def result_to_file(self, file: str | os.PathLike | BinaryIO, timeout: float | None = None,
                       progress_bar: bool | TextIO | None = False) -> None:
        """Wait, then write the stored (encoded) result to a path or binary file-like (left open).

        For the storage destination, the object the job wrote, read back from its URL.
        """
        self.wait(timeout, progress_bar)
        if not self._row.get("result_path"):
            self._check()
        if self.object_url is not None:
            data = read_object(self._backend, self.object_url)
        else:
            data = read_bytes(self._backend, self._row)
        if hasattr(file, "write"):
            file.write(data)
        else:
            tmp = f"{os.fspath(file)}.part"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, file)

    # -- display --------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"Job ID: {self.id}\n{progress_line(self.steps_done, self.steps_total, self.stage)}"

    def _repr_html_(self) -> str:
        return job_card(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        """In a notebook: a live one-job JobsBoard; elsewhere the text bar."""
        text = {"text/plain": repr(self)}
        if not in_notebook():
            return text
        try:
            from ..widgets.jobs_board import job_mimebundle  # noqa: PLC0415  (facade: widgets sit above jobs)
        except ImportError:  # Jupyter widget packages not installed
            return text
        return job_mimebundle(self, include, exclude)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Job) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)
