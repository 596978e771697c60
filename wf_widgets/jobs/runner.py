"""Run jobs on any ``concurrent.futures.Executor``.

The worker function reads everything from the job row and reports only through the
stores, so it runs the same in a thread, a process pool or a Dask ``distributed``
worker. Our own thread pool gets the Backend itself; any other executor gets
:func:`run_job` with the job's id alone: a worker in another process builds its Backend
from its own environment (``WF_WIDGETS_DATABASE_URL``, ``WF_WIDGETS_STORAGE_URL``,
``WF_WIDGETS_HOME``, ...; :func:`wf_widgets._context.worker_backend`, cached per process),
never from the launcher's settings (which hold the SMTP password and the launcher's
home). While a job runs, a heartbeat thread in its process refreshes its row.

The runner watches the future of every job it submits: if the executor loses the task
(a process-pool worker killed, so the pool breaks; the task cancelled by a shutdown; the
executor failing it), the job's row is marked FAILED with code INTERRUPT at once, so
nobody waits for it. A broken ``ProcessPoolExecutor`` fails every task queued in it, so
the jobs queued behind the lost one end the same way. Such an executor is the user's (the
runner's own is a thread pool, which does not break), so the runner does not rebuild it
or resubmit: the message says to launch the job again.

Retries (``compute(retries=N)``): an attempt that fails with a transient code
(:func:`retryable`: TRANSIENT, INTERRUPT, DESTINATION from a network error) while the job
has retries left does not end the job: its row goes back to QUEUED for a next attempt at
``retry_at`` (:meth:`~wf_widgets.jobs.store.JobStore.requeue`, keeping the attempt's code in
``attempt_codes``). :func:`execute` waits for it and runs it in the same worker (a thread of
the pool waits meanwhile: the waits are bounded, see
:func:`~wf_widgets.jobs.store.retry_delay`). A worker that dies loses its attempt with code
INTERRUPT (the reaper, :meth:`JobStore.interrupt`, requeues the job likewise); the process
that noticed runs it when due (:func:`resume_due`: the runner whose task was lost, a
``Job.wait()`` of the job, or any sweep). The job is terminal only after its last attempt,
and only then is its notification due (:mod:`wf_widgets.delivery.notify`, sent from a
thread started here).
"""

from __future__ import annotations

import functools
import os
import smtplib
import socket
import threading
import time
from concurrent.futures import BrokenExecutor, Executor, Future, ThreadPoolExecutor
from typing import Any, Callable

from .. import _context
from .._context import TERMINAL, BackendLike
from .._db import describe
from ..delivery import HANDLERS
from ..delivery import notify as _notify
from ..engine import memory
from ..engine.evaluate import EvalContext, evaluate, plan
from ..errors import JobDestination, NotFound, WfError, code_for
from ..geo import geocontext_from_dict
from ..values.graph import Node, from_json
from .pool import JobPool
from .store import JobStore, retry_delay, worker_dead

#: Seconds between progress writes of one job; the cancel flag is read with each write.
PROGRESS_EVERY_S = 0.1
#: Seconds between heartbeats of running jobs, whatever their steps do.
HEARTBEAT_EVERY_S = 10.0


class _Cancelled(Exception):
    pass


class _TimedOut(_Cancelled):
    pass


class _Ended(Exception):
    """The job's row ended while this process ran it unclaimed (cancelled while it looked QUEUED)."""


#: The error message of a job cancelled because its deadline passed (``compute(timeout=...)``).
TIMED_OUT = "Timed out"


class _Reporter:
    """Progress writes throttled to one per :data:`PROGRESS_EVERY_S` per job, each reading the cancel flag.

    A stage or step change inside the window is kept and written with the next write (or
    with the final row), so a watcher polling the store sees at most a blip less. The
    cancel flag is read with each write, so a cancellation is seen at the first step
    :data:`PROGRESS_EVERY_S` after the previous write, not later (a job that starts claims
    only if not cancelled). A job run in the caller's thread (:meth:`Runner.run_here`) also
    has a deadline and an ``on_progress(stage, steps_done, steps_total)`` callback drawing
    its progress bar.

    ``unclaimed_since``: the job's row is still QUEUED (run by a thread of the process that
    queued it, see :func:`execute`); the first write claims it, with that start time.
    """

    def __init__(self, store: JobStore, job_id: str, deadline: float | None = None,
                 on_progress: Callable[[str, int, int], None] | None = None, unclaimed_since: float | None = None):
        self.store, self.job_id = store, job_id
        self.deadline, self.on_progress = deadline, on_progress
        self.unclaimed_since = unclaimed_since
        self._last = time.monotonic()
        self.pending: dict[str, Any] = {}
        self.state = {"stage": "PREPARING", "steps_done": 0, "steps_total": 0}

    def claim(self) -> None:
        """Claim the row now if it is not yet (raises _Ended if it ended meanwhile)."""
        if self.unclaimed_since is not None:
            if self.store.claim(self.job_id, started=self.unclaimed_since) is None:
                raise _Ended()
            self.unclaimed_since = None

    def _report(self, fields: dict[str, Any]) -> None:
        self.pending.update(fields)
        now = time.monotonic()
        if self.on_progress is not None:
            self.state.update(fields)
            self.on_progress(self.state["stage"], self.state["steps_done"], self.state["steps_total"])
        if self.deadline is not None and now > self.deadline:
            raise _TimedOut()
        if now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self.claim()
            cancelled = self.store.progress(self.job_id, **self.pending)
            self.pending.clear()
            if cancelled:
                raise _Cancelled()

    def stage(self, stage: str, steps_total: int | None = None, steps_done: int | None = None) -> None:
        fields: dict[str, Any] = {"stage": stage}
        if steps_total is not None:
            fields["steps_total"] = steps_total
        if steps_done is not None:
            fields["steps_done"] = steps_done
        self._report(fields)

    def step(self, steps_done: int) -> None:
        self._report({"steps_done": steps_done})


class _Heartbeat:
    """One daemon thread per process refreshing the heartbeat of the jobs running here."""

    def __init__(self) -> None:
        self.running: dict[str, JobStore] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def add(self, job_id: str, store: JobStore) -> None:
        with self._lock:
            self.running[job_id] = store
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._loop, name="wf-heartbeat", daemon=True)
                self._thread.start()

    def remove(self, job_id: str) -> None:
        with self._lock:
            self.running.pop(job_id, None)

    def _loop(self) -> None:
        while True:
            time.sleep(HEARTBEAT_EVERY_S)
            with self._lock:
                by_store: dict[int, tuple[JobStore, list[str]]] = {}
                for job_id, store in self.running.items():
                    by_store.setdefault(id(store), (store, []))[1].append(job_id)
            for store, ids in by_store.values():
                try:
                    store.heartbeat(ids)
                except Exception:  # a transient lock; the next beat retries
                    pass


_heartbeat = _Heartbeat()


def _message(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, WfError) else f"{type(exc).__name__}: {text}"


#: Error codes whose failures are retried (``compute(retries=N)``); DESTINATION only from a network error.
RETRY_CODES = ("TRANSIENT", "INTERRUPT")
#: Errors in the causes of a DESTINATION failure that make it transient (a network error).
NETWORK_ERRORS = (ConnectionError, TimeoutError, socket.gaierror, smtplib.SMTPServerDisconnected,
                  smtplib.SMTPConnectError)
#: Seconds between looks at the row while waiting for the next attempt (is it cancelled?).
RETRY_POLL_S = 0.1


def retryable(exc: BaseException, code: str) -> bool:
    """Whether an attempt that failed with ``exc`` (code ``code``) may be retried: TRANSIENT, INTERRUPT,
    or DESTINATION caused by a network error (connection refused or reset, timeout, DNS, an SMTP 4xx)."""
    if code in RETRY_CODES:
        return True
    if code != "DESTINATION":
        return False
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, NETWORK_ERRORS) or (
                isinstance(cause, smtplib.SMTPResponseException) and 400 <= cause.smtp_code < 500):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def notify_after(backend: BackendLike, row: dict | None) -> None:
    """Send the notification of a job that just ended for good, from a daemon thread (if it asked for one)."""
    if row is not None and row.get("notify_state") == "PENDING":
        _notify.dispatch(backend, row["id"])


def execute(backend: BackendLike, job_id: str, deadline: float | None = None,
            on_progress: Callable[[str, int, int], None] | None = None, claimed: dict | None = None,
            node: Node | None = None, queued: dict | None = None) -> dict:
    """Run job ``job_id`` to a terminal stage in this process, every attempt; returns its final row (no graph).

    An attempt that fails transiently with retries left queues the next (see the module
    doc); this waits for it (a deadline passing meanwhile cancels the job; a cancellation
    ends the wait) and runs it here, until the job ends. Then its notification goes out.
    """
    row = _attempt(backend, job_id, deadline, on_progress, claimed, node, queued)
    while row is not None and row["stage"] == "QUEUED" and row.get("retry_at") is not None:
        if not _wait_retry(backend, job_id, row["retry_at"], deadline):
            row = backend.jobs.get(job_id, graph=False)
            break
        row = _attempt(backend, job_id, deadline, on_progress, None, node, None)
    if row is not None and row["stage"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
        notify_after(backend, row)
    return row


#: Jobs a thread of this process waits to run the next attempt of (job id -> store): the runner's
#: close() cancels them, as it cancels the jobs running here.
_retrying: dict[str, JobStore] = {}


def _wait_retry(backend: BackendLike, job_id: str, retry_at: float, deadline: float | None) -> bool:
    """Wait until the job's next attempt is due, then take it (True); False if it ended meanwhile or was taken."""
    store = backend.jobs
    _retrying[job_id] = store
    try:
        while True:
            now = backend.settings.time()
            if now >= retry_at:
                return store.claim_retry(job_id, now)
            if deadline is not None and time.monotonic() > deadline:
                store.finish(job_id, "CANCELLED", error_message=TIMED_OUT, unclaimed_started=now)
                return False
            status = store.status(job_id)
            if status is None or status["stage"] != "QUEUED":
                return False
            time.sleep(min(RETRY_POLL_S, retry_at - now))
    except KeyboardInterrupt:
        store.request_cancel(job_id)
        raise
    finally:
        _retrying.pop(job_id, None)


def _attempt(backend: BackendLike, job_id: str, deadline: float | None = None,
             on_progress: Callable[[str, int, int], None] | None = None, claimed: dict | None = None,
             node: Node | None = None, queued: dict | None = None) -> dict:
    """Run one attempt of job ``job_id`` in this process; returns its row (no graph) after it.

    The job is claimed first (QUEUED -> PREPARING) unless ``claimed`` is its row, created
    already claimed by this process. With either, the process may pass the graph's root
    ``node`` it holds. ``deadline`` (``time.monotonic()`` seconds) cancels the job when
    passed; ``on_progress`` is called at every step. A KeyboardInterrupt cancels the job,
    then propagates.

    ``queued`` is its QUEUED row as this process created it (a thread of the process that
    queued the job runs it). Its row is then claimed late, saving a write per short job:
    with the first progress write (:data:`PROGRESS_EVERY_S` in), before a delivery that
    can't be discarded, or with the final row. Until then the row stays QUEUED, with this
    process's pid (so it is reaped if this process dies), and a cancellation ends it at
    once, as any queued job's: the run stops at its next progress write (or its end) and
    its stored result is deleted.

    The job runs as the user its row names (``owner``: :meth:`BackendLike.as_user`), not as
    this worker's settings' user: it reads and writes the catalog with that user's rights.
    """
    store = backend.jobs
    unclaimed = None
    if claimed is not None:
        row = claimed
    elif queued is not None:  # still queued, not cancelled meanwhile? (a read)
        unclaimed = backend.settings.time()
        row = None if store.cancel_requested(job_id) else {**queued, "started": unclaimed}
    else:
        row = store.start(job_id)
    if row is None:  # cancelled, or claimed by another worker
        final = store.get(job_id, graph=False)
        if final is None:  # a worker whose environment names another database than its launcher's
            raise NotFound(f"No job with id {job_id!r} in {describe(backend.settings)}, the database of this worker "
                           f"(pid {os.getpid()}): its WF_WIDGETS_DATABASE_URL (or, embedded, WF_WIDGETS_HOME) must "
                           "name the launcher's database", field="job_id", value=job_id)
        if final["stage"] not in TERMINAL and worker_dead(final, backend.settings.time()):
            # Run again after the worker that claimed it died (Dask retries a lost worker's task): it ends now.
            store.reap_stale([job_id])
            final = store.get(job_id, graph=False)
        return final
    # The job runs as the user who launched it (their catalog rights, their address), whoever this worker is.
    backend = backend.as_user(row.get("owner"), row.get("owner_email"))
    _heartbeat.add(job_id, store)
    stored: dict | None = None
    reporter = _Reporter(store, job_id, deadline, on_progress, unclaimed_since=unclaimed)
    try:
        geoctx = None
        if row["geoctx"] is not None:
            geoctx = geocontext_from_dict(row["geoctx"])
        # A graph that reads no imagery (no geoctx) launched by this process with its node was
        # estimated by prepare() just now; the estimate depends on nothing else.
        checked = node is not None and geoctx is None
        if node is None:
            # Written by compute() into our store: no rehashing, but checked like any graph; big
            # literals come from blob files.
            graph = store.resolve(row["graph"]) if row.get("blobs") else row["graph"]
            node = from_json(graph, verify=False)
        ctx = EvalContext.for_backend(backend, geoctx, on_step=reporter.step)
        # One step per node, plus each op's extras (+ 1 for the delivery). Checked already (prepared
        # here, no geoctx): prepare() inferred the graph statically, and only nodes reading imagery
        # have extra steps, which need a geoctx; so the count is the nodes', without inferring again.
        total = (sum(1 for _ in node.walk()) if checked else plan(node, ctx)) + 1
        if not checked:
            memory.check(node, ctx, backend.settings.max_memory)  # scene lists cached by plan()
        reporter.stage("RUNNING", steps_total=total)
        value = evaluate(node, ctx)
        reporter.stage("SAVING", steps_done=total - 1)
        handler = HANDLERS[row["destination"]["type"]]
        if not handler.discardable:  # what leaves the process names a job every process can see
            reporter.claim()
            store.write_held((job_id,))
        stored = handler.deliver(backend, row, value)
        final = store.finish(job_id, "SUCCEEDED", steps_done=total, steps_total=total, known=row,
                             unclaimed_started=reporter.unclaimed_since, **stored)
        if final is None:
            raise _Ended()
        return final
    except _Ended:
        _discard(backend, stored)
        return store.get(job_id, graph=False)
    except (_Cancelled, KeyboardInterrupt) as exc:
        _discard(backend, stored)
        reason = {_TimedOut: TIMED_OUT, KeyboardInterrupt: "Interrupted"}.get(type(exc), "Cancelled")
        final = store.finish(job_id, "CANCELLED", error_message=reason, unclaimed_started=reporter.unclaimed_since)
        if isinstance(exc, KeyboardInterrupt):
            raise
        return final if final is not None else store.get(job_id, graph=False)
    except BaseException as exc:  # the row must always end; KeyboardInterrupt in a worker too
        kept = exc.stored if isinstance(exc, JobDestination) else None  # an email that failed keeps its download
        code = code_for(exc)
        attempts = row.get("attempts") or 1
        if isinstance(exc, Exception) and attempts <= (row.get("retries") or 0) and retryable(exc, code):
            retry_at = backend.settings.time() + retry_delay(backend.settings, attempts)
            if store.requeue(job_id, code, _message(exc), retry_at, attempts=attempts,
                             unclaimed_started=reporter.unclaimed_since):
                _discard(backend, stored)
                _discard(backend, kept)  # the next attempt delivers again (same key: nothing left over)
                return store.get(job_id, graph=False)
        if kept is None:
            _discard(backend, stored)
        final = store.finish(job_id, "FAILED", error_code=code, error_message=_message(exc),
                             unclaimed_started=reporter.unclaimed_since, **(kept or {}))
        if final is None:  # cancelled meanwhile: that ended it; nothing of this run is kept
            if kept is not None:
                _discard(backend, kept)
        if not isinstance(exc, Exception):
            raise
        return final if final is not None else store.get(job_id, graph=False)
    finally:
        _heartbeat.remove(job_id)


def _discard(backend: BackendLike, stored: dict | None) -> None:
    if stored and stored.get("result_path"):
        backend.results.delete(stored["result_path"])


def lost_message(exc: BaseException) -> str:
    """The error message of a job whose task the executor lost with ``exc``."""
    if isinstance(exc, BrokenExecutor):
        return ("The job's worker process stopped before the job finished (its executor broke: "
                f"{_message(exc)}); launch it again")
    return f"The job's worker process stopped before the job finished (its executor failed the task: {_message(exc)})"


#: Jobs this process handed to an executor that is not our thread pool: job id -> (pid, Backend).
#: A task run by a thread of this process (an in-process Dask cluster, an executor of one's
#: own) runs with the launching Backend; the entry is dropped when the task ends.
_launched: dict[str, tuple[int, BackendLike]] = {}


def run_job(job_id: str) -> dict:
    """Picklable entry point for process pools and Dask: only the job's id travels; returns the final row.

    In the process that launched the job, it runs with the launching Backend; in any other
    (a Dask worker, a process-pool worker, forked or spawned), with the worker's own Backend,
    built from that process's environment (:func:`wf_widgets._context.worker_backend`).
    """
    launched = _launched.pop(job_id, None)
    if launched is not None and launched[0] == os.getpid():
        return execute(launched[1], job_id)
    return execute(_context.worker_backend(), job_id)


class Runner:
    """Submits jobs to an executor.

    Parameters
    ----------
    backend : Backend
    executor : concurrent.futures.Executor, optional
        If omitted, a :class:`~wf_widgets.jobs.pool.JobPool` of at most ``settings.workers``
        threads (default ``min(32, cpus + 4)``), adding threads as its jobs block. Thread pools
        get the Backend itself; other executors get
        :func:`run_job` with the job's id alone (a worker process builds its Backend from
        its own environment).
    """

    def __init__(self, backend: BackendLike, executor: Executor | None = None):
        self.backend = backend
        self._own = executor is None
        if executor is None:
            workers = backend.settings.workers or min(32, (os.cpu_count() or 1) + 4)
            executor = JobPool(max_workers=workers, thread_name_prefix="wf-job")
        self.executor = executor

    @property
    def runs_in_process(self) -> bool:
        """True when jobs run in threads of this process (a thread pool): their rows may be held
        (:mod:`wf_widgets.jobs.held`), where other executors' workers must read them."""
        return isinstance(self.executor, (ThreadPoolExecutor, JobPool))

    @property
    def runs_here(self) -> bool:
        """True when blocking jobs run in the caller's thread (our own thread pool).

        The caller would only wait for the pool's thread; running the job itself saves two
        thread hand-offs per job. Jobs on an executor given by the user always go there.
        """
        return self._own

    def run_here(self, row: dict, timeout: float | None = None,
                 on_progress: Callable[[str, int, int], None] | None = None, node: Node | None = None) -> dict:
        """Run a job created claimed by this process in this thread (see :attr:`runs_here`).

        ``row`` is what ``JobStore.create(..., claim=True)`` returned; returns the final row.
        """
        deadline = time.monotonic() + timeout if timeout is not None else None
        return execute(self.backend, row["id"], deadline, on_progress, claimed=row, node=node)

    def submit(self, job_id: str, row: dict | None = None, node: Node | None = None) -> Future:
        """Submit a QUEUED job; its future's end is watched (see the module's docstring).

        ``row`` (the job's row as ``JobStore.create`` returned it) and ``node`` (its graph's
        root) spare a thread of this process reading them back; other executors read the row.
        An executor that refuses the task (broken, or shut down) fails the job with code
        INTERRUPT; the returned future then holds that error.
        """
        try:
            if self.runs_in_process:
                future = self.executor.submit(execute, self.backend, job_id, queued=row, node=node)
            else:
                _launched[job_id] = (os.getpid(), self.backend)
                future = self.executor.submit(run_job, job_id)
        except (BrokenExecutor, RuntimeError) as exc:  # RuntimeError: shut down already
            _launched.pop(job_id, None)
            self._lost(job_id, lost_message(exc))
            future = Future()
            future.set_exception(exc)
            return future
        future.add_done_callback(functools.partial(self._watch, job_id))
        return future

    def _watch(self, job_id: str, future: Future) -> None:
        # Runs when the task ends, in whatever thread the executor uses: a job whose task
        # was lost is failed now, not when someone next sweeps.
        _launched.pop(job_id, None)
        if future.cancelled():
            message = "The job was dropped before it ran: its executor was shut down; launch it again"
        else:
            exc = future.exception()
            if exc is None:
                return  # the worker ended the row itself
            message = lost_message(exc)
        self._lost(job_id, message)

    def _lost(self, job_id: str, message: str) -> None:
        """The job's task was lost: its attempt ends INTERRUPT; a retry is run here when due, else it notifies."""
        store = self.backend.jobs
        if not store.interrupt(job_id, message):
            return
        row = store.get(job_id, graph=False)
        if row is None:
            return
        if row["stage"] == "QUEUED" and row.get("retry_at") is not None:
            timer = threading.Timer(max(row["retry_at"] - self.backend.settings.time(), 0.0), resume_due,
                                    (self.backend, [job_id]))
            timer.daemon = True
            timer.start()
        else:
            notify_after(self.backend, row)

    def close(self) -> None:
        """Shut down our own executor: queued jobs are dropped, running ones cancelled and awaited."""
        if self._own:
            running = list(_heartbeat.running.items()) + list(_retrying.items())
            store = self.backend.jobs if running else None  # none running: don't open the store to close
            for job_id, job_store in running:
                if job_store is store:
                    store.request_cancel(job_id)
            self.executor.shutdown(wait=True, cancel_futures=True)


def resume_due(backend: BackendLike, job_ids: list[str] | None = None) -> int:
    """Run the jobs whose next attempt is due (all, or those of ``job_ids``) on ``backend.runner``; returns how many.

    Each is taken with :meth:`~wf_widgets.jobs.store.JobStore.claim_retry` (one process gets
    it) and submitted as a QUEUED job of this process.
    """
    store = backend.jobs
    now = backend.settings.time()
    due = store.due_retries(now)
    if job_ids is not None:
        wanted = set(job_ids)
        due = [job_id for job_id in due if job_id in wanted]
    taken = 0
    for job_id in due:
        if store.claim_retry(job_id, now):
            backend.runner.submit(job_id)
            taken += 1
    return taken
