"""JobsBoard: one live widget for many jobs.

How state flows
---------------
The board's synced state is one list trait, ``rows`` (a small dict per job of the page
shown: ``page``, ``page_size`` jobs a page), plus ``counts`` (jobs per stage, over all the
jobs). No widget exists per job. One background thread per board, the *poller*
(:class:`~wf_widgets.widgets._poller.Poller`), reads the status of the jobs it tracks with
one query (:meth:`JobStore.many <wf_widgets.jobs.store.JobStore.many>`) every
:data:`POLL_INTERVAL_S`: those that have not ended (their stage counts) and those of the
page shown (their rows); a job that ended is read again only when its page is shown. So
thousands of jobs cost the view one page of rows, and the poll the jobs still running. It
builds the rows, and when they differ from the last ones,
puts them into a one-slot queue and asks the kernel's IOLoop (``add_callback``) to apply
them. So the board sends at most ``1 / POLL_INTERVAL_S`` updates a second however many
jobs it tracks. The thread never touches a trait itself; an error reading the store stops
it and is shown under the board. Without a running loop (plain scripts, pytest) the
snapshots wait in the queue until :meth:`JobsBoard.refresh`, which also polls at once, so
state-level tests are deterministic.

The poller stops once every job is done (after sending their final rows) and starts
again on :meth:`JobsBoard.add` or a retry.

The view (``js/jobs_board.js``) asks for actions by setting the ``_action`` trait
(``{"op": "cancel" | "cancel_all" | "retry" | "retry_failed" | "renew_link" | "revoke_link", "id": ...,
"n": counter}``; ``renew_link`` may carry ``days``, ``revoke_link`` ``delete_data``), observed here,
and for another page by setting ``page`` (rows of the new page are read at once).

A row names its job by its context (the DLTile key) and ``short``, the start of the id's
random part (:attr:`Job.short_id <wf_widgets.jobs.job.Job.short_id>`): ids of jobs launched
together share their first characters (the time), so those would not tell them apart.
``wf.Job.get`` and ``wf-widgets jobs show/cancel`` accept ``short``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any, Iterable

import anywidget
import traitlets

from ..delivery.links import result_url
from ..errors import ValidationError
from ..geo import geocontext_from_dict
from ..jobs.job import Job
from ..jobs.plan import Launch, prepare, submit
from ..values import Value
from ._base import WidgetBase, kernel_loop, shows_errors, static_path
from ._poller import Poller

log = logging.getLogger("wf_widgets.widgets")

#: Seconds between two polls of the job store, and the shortest time between two state
#: updates sent by a board: at most 4 updates a second.
POLL_INTERVAL_S = 0.25
MAX_UPDATES_PER_S = 1.0 / POLL_INTERVAL_S

#: Jobs per page of the board, by default, and at most.
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

_TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
_ID_KEYS = ("id", "name", "product_id")


def _t(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


class JobsBoard(WidgetBase, anywidget.AnyWidget):
    """A live table of jobs: counts by stage, one row per job, cancel, cancel all, retry, retry failed, renew or revoke a link.

    Parameters
    ----------
    jobs : iterable of Job, optional
        Jobs to show; :meth:`add` adds more.
    **kwargs
        Public traits (e.g. ``layout``); anything else raises ``TypeError``.

    Attributes
    ----------
    rows : list of dict
        One dict per job of the page shown (jobs in the order added): ``id``, ``short``
        (the start of the id's random part, :attr:`Job.short_id`), ``label`` (the DLTile key),
        ``stage``, ``steps``, ``total``, ``created``, ``started``, ``finished`` (unix
        seconds), ``destination`` and ``format`` (their types) and, when there is one, the
        result: ``url`` and ``expires`` (download and email), ``email`` (the address an
        email job was sent to), ``image`` (``id``, ``name``, ``product_id`` of a catalog
        upload), ``object_url`` and ``size`` (the object a storage job wrote), ``revoked`` (the
        job's links were revoked: no ``url``), ``expired`` (the stored result was deleted), ``lost`` (why
        the stored result is missing or damaged before its expiry), ``error`` and ``code`` (a
        failed or cancelled job), ``retry_of`` (the id of the job a retry replaced); for a job
        with ``retries`` (``compute(retries=N)``): ``attempts`` (started so far), ``retries``,
        ``attempt_codes`` (the code of each ended attempt) and, while it waits for its next
        attempt, ``retry_at`` (unix seconds).
    counts : dict
        Number of jobs per stage (only stages that have jobs) and ``"total"``, over all
        the jobs (every page).
    page : int
        The page shown, from 0 (clamped to the pages there are); the view's page controls set it.
    page_size : int
        Jobs per page (default :data:`PAGE_SIZE`; 1 to :data:`MAX_PAGE_SIZE`).
    callback_error : str
        The last error raised by an action (cancel, retry), shown under the board.
    note : str
        Shown under the table: when download links are served from inside this kernel, the
        sentence saying they work only while it runs (``Backend.link_note()``).
    jobs : list of Job
        The Job objects shown (not a trait: Jobs are not synced, their rows are).
    """

    _esm = static_path("jobs_board.js")
    _css = static_path("jobs_board.css")

    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    counts = traitlets.Dict().tag(sync=True)
    callback_error = traitlets.Unicode("").tag(sync=True)
    note = traitlets.Unicode("").tag(sync=True)
    page = traitlets.Int(0).tag(sync=True)
    page_size = traitlets.Int(PAGE_SIZE).tag(sync=True)
    #: Set by the view to ask for an action; ``n`` makes repeated clicks distinct changes.
    _action = traitlets.Dict().tag(sync=True)
    #: The kernel's clock (unix seconds, with ``WF_WIDGETS_NOW_OFFSET_S``) when ``rows`` was
    #: last sent; the view corrects elapsed times and countdowns with it.
    _clock = traitlets.Float(0.0).tag(sync=True)

    def __init__(self, jobs: Iterable[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.RLock()
        self._jobs: dict[str, Any] = {}  # id -> Job, in display order
        self._retry_of: dict[str, str] = {}
        self._urls: dict[tuple[str, float], str] = {}
        self._last: tuple | None = None  # last (rows, counts, page) built (poller or refresh)
        self._done: set[str] = set()
        self._status: dict[str, dict] = {}  # id -> its last status row read
        self._poller = Poller(self._collect, self._apply, self._show_error, interval=POLL_INTERVAL_S,
                              loop=kernel_loop(), name="wf-jobs-board", active=self._following)
        if jobs is not None:
            self.add(*jobs)

    # -- public API -------------------------------------------------------------------------
    @property
    def jobs(self) -> list:
        """The Job objects on the board, in display order."""
        with self._lock:
            return list(self._jobs.values())

    def add(self, *jobs: Job) -> "JobsBoard":
        """Add jobs (Job objects; ones already shown are ignored) and (re)start the poller."""
        for job in jobs:
            if not isinstance(job, Job):
                raise TypeError(f"JobsBoard.add() takes Job objects, got {type(job).__name__} {job!r}")
        with self._lock:
            for job in jobs:
                self._jobs.setdefault(job.id, job)
        self._ensure_poller()
        return self

    def refresh(self) -> "JobsBoard":
        """Read every job now and apply the result (and anything the poller queued)."""
        self._poller.discard()
        update = self._collect(force=True)
        if update is not None:
            self._apply(update)
        return self

    def cancel(self, job_id: str) -> bool:
        """Cancel one job (False if it had already ended)."""
        job = self._job(job_id)
        ok = job.cancel()
        self._poller.wake()
        return ok

    def cancel_all(self) -> int:
        """Cancel every job that has not ended; returns how many were asked to stop."""
        n = sum(1 for job in self.jobs if job.cancel())
        self._poller.wake()
        return n

    def retry(self, job_id: str) -> Job:
        """Launch a failed or cancelled job again (same graph, geocontext, format, destination, notify, retries).

        The new job takes the old one's row on the board; returns the new Job.
        """
        return self._replace({job_id: self._relaunch(job_id)})[0]

    def retry_failed(self) -> list[Job]:
        """Launch every failed job of the board again (what "Retry failed" does); returns the new Jobs.

        All are prepared (every check of the launch pipeline) before any is submitted: one
        that can't be launched any more (a product deleted meanwhile) raises, naming its
        job, and none is launched. Each new job takes its old one's row.
        """
        failed = [job.id for job in self.jobs if (self._status.get(job.id) or job._row)["stage"] == "FAILED"]
        launches: dict[str, Launch] = {}
        for job_id in failed:
            if self._job(job_id)._backend.jobs.status(job_id)["stage"] != "FAILED":
                continue  # retried (or ended otherwise) since the board last read it
            try:
                launches[job_id] = self._relaunch(job_id)
            except ValidationError as exc:
                exc.args = (f"Job {self._job(job_id).short_id}: {exc}",) + exc.args[1:]
                raise
        return self._replace(launches)

    def _relaunch(self, job_id: str) -> Launch:
        """The launch computing again what job ``job_id`` (failed or cancelled) computed, prepared."""
        backend = self._job(job_id)._backend
        row = backend.jobs.get(job_id)
        if row["stage"] not in ("FAILED", "CANCELLED"):
            raise ValidationError(f"Only a failed or cancelled job can be retried; job {job_id} is {row['stage']}",
                                  field="job", value=row["stage"], allowed=("FAILED", "CANCELLED"))
        value = Value.from_json(row["graph"])
        ctx = geocontext_from_dict(row["geoctx"]) if row.get("geoctx") else None
        return prepare(value, ctx, row["format"], row["destination"], backend, notify=row.get("notify"),
                       retries=row.get("retries") or 0)

    def _replace(self, launches: dict[str, Launch]) -> list[Job]:
        """Submit ``launches`` (old job id -> launch); each new job takes its old one's row."""
        new: dict[str, Job] = {}
        try:
            for old_id, launch in launches.items():
                new[old_id] = submit(launch)
        finally:
            with self._lock:
                self._jobs = {(new[k].id if k in new else k): new.get(k, j) for k, j in self._jobs.items()}
                self._retry_of.update({job.id: old_id for old_id, job in new.items()})
            if new:
                self._ensure_poller()
        return list(new.values())

    def renew_link(self, job_id: str, days: float | None = None) -> str:
        """Renew the download link of one job (:meth:`Job.renew_link`); returns the new link, shown at once."""
        url = self._job(job_id).renew_link(days)
        self.refresh()
        return url

    def revoke_link(self, job_id: str, delete_data: bool = False) -> None:
        """Revoke the download links of one job (:meth:`Job.revoke_link`), at once in every server."""
        self._job(job_id).revoke_link(delete_data)
        self.refresh()

    def stop(self) -> None:
        """Stop the poller (it starts again on :meth:`add`)."""
        poller = getattr(self, "_poller", None)  # None: __init__ did not get that far (close() from __del__)
        if poller is not None:
            poller.stop()

    def close(self) -> None:
        self.stop()
        super().close()

    @property
    def polling(self) -> bool:
        """True while the poller thread runs."""
        return self._poller.running

    @property
    def pages(self) -> int:
        """How many pages the jobs fill (at least 1)."""
        with self._lock:
            n = len(self._jobs)
        return max(1, math.ceil(n / self.page_size))

    @traitlets.validate("page")
    def _valid_page(self, proposal: dict) -> int:
        value = proposal["value"]
        lock = getattr(self, "_lock", None)  # None: while traitlets sets the default
        return value if lock is None else min(max(value, 0), self.pages - 1)

    @traitlets.validate("page_size")
    def _valid_page_size(self, proposal: dict) -> int:
        value = proposal["value"]
        if not 1 <= value <= MAX_PAGE_SIZE:
            raise ValidationError(f"page_size must be 1 to {MAX_PAGE_SIZE}, got {value!r}", field="page_size",
                                  value=value)
        return value

    @traitlets.observe("page", "page_size")
    @shows_errors
    def _on_page(self, change: dict) -> None:
        if change["name"] == "page_size":
            self.page = self.page  # clamped again
        if getattr(self, "_poller", None) is not None:
            self.refresh()

    # -- actions from the view ------------------------------------------------------------------
    @traitlets.observe("_action")
    @shows_errors
    def _on_action(self, change: dict) -> None:
        action = change["new"] or {}
        op = action.get("op")
        if op == "cancel":
            self.cancel(action["id"])
        elif op == "cancel_all":
            self.cancel_all()
        elif op == "retry":
            self.retry(action["id"])
        elif op == "retry_failed":
            self.retry_failed()
        elif op == "renew_link":
            self.renew_link(action["id"], action.get("days"))
        elif op == "revoke_link":
            self.revoke_link(action["id"], bool(action.get("delete_data", False)))
        elif op is not None:
            raise ValueError(f"Unknown jobs board action {op!r}; known: 'cancel', 'cancel_all', 'retry', "
                             "'retry_failed', 'renew_link', 'revoke_link'")

    def _job(self, job_id: str) -> Any:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise KeyError(f"No job {job_id!r} on this board")
        return job

    # -- the poller ---------------------------------------------------------------------------
    def _ensure_poller(self) -> None:
        with self._lock:
            if not self._jobs:
                return
        self._poller.start()  # or, running, poll at once

    def _following(self) -> bool:
        """False once every job has ended (the poller stops after handing over their final rows)."""
        with self._lock:
            return bool(self._jobs) and not self._done.issuperset(self._jobs)

    def _apply(self, update: tuple) -> None:
        rows, counts, clock, note, page, size = update
        if (page, size) != (self.page, self.page_size):  # built for a page no longer shown
            self._poller.wake()
            return
        with self.hold_sync():
            self._clock = clock
            self.counts = counts
            self.note = note
            self.rows = rows

    def _collect(self, force: bool = False) -> tuple | None:
        """(rows, counts, clock, note, page, page_size) read from the store, or None if nothing changed
        (and not ``force``).

        Reads the jobs that have not ended and those of the page shown; the others keep
        the status last read.
        """
        with self._lock:
            jobs = list(self._jobs.values())
            done = set(self._done)
        size = self.page_size
        page = min(max(self.page, 0), max(1, math.ceil(len(jobs) / size)) - 1)
        shown = jobs[page * size:(page + 1) * size]
        shown_ids = {job.id for job in shown}
        by_backend: dict[int, tuple[Any, list[str]]] = {}
        for job in jobs:
            if job.id not in done or job.id in shown_ids:
                by_backend.setdefault(id(job._backend), (job._backend, []))[1].append(job.id)
        status: dict[str, dict] = {}
        clock = time.time()
        for backend, ids in by_backend.values():
            status.update(backend.jobs.many(ids))
            clock = backend.settings.time()
        with self._lock:
            self._status.update(status)
            known = {job.id: self._status.get(job.id) or job._row for job in jobs}
        rows = [self._row(job, known[job.id]) for job in shown]
        counts: dict[str, int] = {}
        for st in known.values():
            counts[st["stage"]] = counts.get(st["stage"], 0) + 1
        counts["total"] = len(jobs)
        with self._lock:
            self._done.update(job_id for job_id, st in known.items() if st["stage"] in _TERMINAL)
            if (rows, counts, page, size) == self._last and not force:
                return None
            self._last = (rows, counts, page, size)
        note = ""
        if any("url" in r for r in rows):
            note = next(iter(by_backend.values()))[0].link_note() or ""
        return rows, counts, round(clock, 1), note, page, size

    def _row(self, job: Any, st: dict | None) -> dict:
        st = st if st is not None else job._row  # just created in another store: its own row
        dest = st.get("destination") or {}
        row = {
            "id": job.id, "short": job.short_id, "label": st.get("label"), "stage": st["stage"], "steps": st.get("steps_done") or 0,
            "total": st.get("steps_total") or 0, "created": _t(st.get("created")), "started": _t(st.get("started")),
            "finished": _t(st.get("finished")), "destination": dest.get("type"),
            "format": (st.get("format") or {}).get("type"),
        }
        if job.id in self._retry_of:
            row["retry_of"] = self._retry_of[job.id]
        if st.get("retries") or (st.get("attempts") or 1) > 1:
            row.update(attempts=st.get("attempts") or 1, retries=st.get("retries") or 0,
                       attempt_codes=list(st.get("attempt_codes") or []))
            if st.get("retry_at") is not None and st["stage"] == "QUEUED":
                row["retry_at"] = _t(st["retry_at"])
        stage = st["stage"]
        if stage == "SUCCEEDED":
            ref = st.get("result_ref") if isinstance(st.get("result_ref"), dict) else {}
            if dest.get("type") == "storage" and ref.get("url"):
                row["object_url"] = ref["url"]
                row["size"] = ref.get("size", st.get("result_size"))
            if st.get("result_problem"):
                row["lost"] = st["result_problem"]
            elif st.get("link_revoked"):
                row["revoked"] = True
                if st.get("result_deleted"):
                    row["expired"] = True
            elif st.get("result_deleted"):
                row["expired"] = True
            elif st.get("expires") is not None:
                row["url"] = self._url(job, st.get("link_base"), st["expires"])
                row["expires"] = _t(st["expires"])
            if dest.get("type") == "email":
                row["email"] = job._backend.settings.email or ""
            image = dest.get("image")
            if isinstance(image, dict):
                row["image"] = {k: image.get(k) for k in _ID_KEYS}
        elif stage in ("FAILED", "CANCELLED"):
            row["error"] = st.get("error_message") or ("Cancelled" if stage == "CANCELLED" else "Failed")
            row["code"] = st.get("error_code") or "NONE"
        return row

    def _url(self, job: Job, base: str | None, expires: float) -> str:
        key = (job.id, expires)
        url = self._urls.get(key)
        if url is None:
            backend = job._backend
            url = self._urls[key] = result_url(backend.signer, base or backend.link_base(), job.id, expires)
        return url


def job_mimebundle(job: Any, include: Any = None, exclude: Any = None) -> dict:
    """The MIME bundle of a Job in a notebook: a live one-job board, and its text bar as text/plain."""
    board = JobsBoard([job])
    bundle = board._repr_mimebundle_(include=include, exclude=exclude)
    data = bundle[0] if isinstance(bundle, tuple) else dict(bundle or {})
    data["text/plain"] = repr(job)
    return data
