"""The job store: rows of jobs every process shares, in SQLite or PostgreSQL.

In the embedded default one SQLite file (WAL mode) in the home folder, ``jobs.sqlite``; with
``WF_WIDGETS_DATABASE_URL``, the database it names (:mod:`wf_widgets._db`: one copy of each
query below, for both dialects).

Rows hold everything a worker in another process needs (graph, geocontext, format,
destination, the launching user) and everything a watcher needs (stage, steps, error, result
location, expiry, host/pid/heartbeat while running, the cancel flag). SQL lives here only.

Each row records who launched it (``owner``, ``settings.user``, and ``owner_email``): the
worker acts with that user's rights (:func:`wf_widgets.jobs.runner.execute`), and
:class:`~wf_widgets.jobs.job.Job` and listings show a user their own jobs only. Rows made
before version 6 have no owner: every user of the home sees them (a home was one user's).

Claims and transitions are safe when workers of many processes (and hosts) race: each is one
conditional statement (``... WHERE id = ? AND stage = 'QUEUED'``, atomic on both databases),
and :meth:`JobStore.request_cancel` reads and writes in one transaction that locks the row.

Big literals of a graph are not in its row: they are blob files (:mod:`wf_widgets.blobs`)
the row lists in its ``blobs`` column; :meth:`JobStore.get` puts them back.

Whether a job's worker is dead is decided in one place, :meth:`JobStore.reap_stale`
(the sweeper, ``Job.wait()`` and the runner's future callbacks all go through it or
:meth:`JobStore.interrupt`): on this host, its pid is gone, or belongs to another process
now (the process start time recorded in ``pid_start`` differs), or its heartbeat is older
than :data:`STALE_AFTER_S`; elsewhere, its heartbeat is that old.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from typing import Any, Iterable

from .. import blobs as _blobs
from .._context import ACTIVE, TERMINAL
from .._db import describe, open_database, store_exists
from ..config import Settings
from ..errors import ValidationError
from .held import held_rows
from .schema import MIGRATIONS

#: A running job whose heartbeat is older than this (and whose worker can't be seen alive) is reaped.
STALE_AFTER_S = 60.0
HOST = socket.gethostname()

# Job ids start with their creation time (jobs.plan.new_job_id), so the primary key orders
# rows by creation for listing. Secondary indexes cost every job that enters them, so the
# sweep's are partial (see schema.py, version 5): each holds only the rows the sweep looks for, and a job
# enters and leaves each at most once (the columns they read change once per job).
_JSON_COLUMNS = ("graph", "geoctx", "format", "destination", "result_ref", "blobs", "notify")
#: The job store's file in the home folder (the embedded default).
FILE_NAME = "jobs.sqlite"
#: The job store's name in a shared database (its ``schema_version`` row).
STORE = "jobs"

#: A job id (:func:`wf_widgets.jobs.plan.new_job_id`): this many hex characters of creation
#: time in milliseconds, then random ones.
ID_TIME_CHARS = 12
#: A whole job id's length: the time, then 36 random hex characters.
ID_CHARS = ID_TIME_CHARS + 36
#: How many characters of the random part name a job to a person (the index ``jobs_id_fragment``).
ID_FRAGMENT_CHARS = 8
_HEX = frozenset("0123456789abcdef")


def short_id(job_id: str) -> str:
    """What tells a job apart from jobs launched with it: the first characters of its id's random part.

    (Ids of jobs launched together share their time part.) An id of another shape is
    shortened to its first :data:`ID_FRAGMENT_CHARS` characters.
    """
    if len(job_id) >= ID_TIME_CHARS + ID_FRAGMENT_CHARS:
        return job_id[ID_TIME_CHARS:ID_TIME_CHARS + ID_FRAGMENT_CHARS]
    return job_id[:ID_FRAGMENT_CHARS]


#: SQL setting a job's notification due now (the first ``?``) when it asked for one and none was due yet.
_NOTIFY_DUE = ("notify_state = CASE WHEN notify IS NOT NULL AND notify_state IS NULL THEN 'PENDING' ELSE notify_state END,"
               " notify_next = CASE WHEN notify IS NOT NULL AND notify_state IS NULL THEN ? ELSE notify_next END")
#: SQL appending the code of an ended attempt (a ``?``) to ``attempt_codes``.
_APPEND_CODE = "attempt_codes = COALESCE(attempt_codes || ',', '') || ?"
#: Most seconds a job waits for its next attempt, however many it had.
MAX_RETRY_DELAY_S = 900.0
#: How :meth:`JobStore.finish` ends a written row (its parameters: see there).
_FINISH = ("UPDATE jobs SET stage = ?, error_code = ?, error_message = ?, finished = ?, updated = ?,"
           " steps_done = COALESCE(?, steps_done), steps_total = COALESCE(?, steps_total), result_path = ?,"
           " result_mimetype = ?, result_size = ?, result_sha256 = ?, result_ref = ?, expires = ?, heartbeat = NULL,"
           f" {_NOTIFY_DUE}, retry_at = NULL, {_APPEND_CODE}")


def attempt_code(stage: str, error_code: str) -> str:
    """The code an attempt that ended in ``stage`` records: ``CANCELLED``, else the error code (``NONE``)."""
    return "CANCELLED" if stage == "CANCELLED" else error_code


def attempt_codes(text: str | list | None) -> list[str]:
    """The ``attempt_codes`` column as a list."""
    if isinstance(text, list):
        return text
    return text.split(",") if text else []


def retry_delay(settings: Settings, attempt: int) -> float:
    """Seconds before the attempt after number ``attempt``: ``retry_backoff_s`` doubled each time, at most
    :data:`MAX_RETRY_DELAY_S`."""
    return min(settings.retry_backoff_s * 2 ** max(attempt - 1, 0), MAX_RETRY_DELAY_S)


def new_webhook_secret() -> str:
    """A new random webhook secret (32 bytes, hex)."""
    return secrets.token_hex(32)


def _after(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix`` (hex digits)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
#: A row whose graph text is longer than this is followed by a WAL checkpoint.
CHECKPOINT_AFTER_BYTES = 1024 * 1024
#: Seconds after a job's creation during which its result file is never an orphan (its row may not be written yet).
ORPHAN_GRACE_S = 60.0


def _id_time_ms(name: str) -> int:
    """The creation time (ms since the epoch) a job id starts with; 0 for a name that doesn't."""
    try:
        return int(name[:ID_TIME_CHARS], 16)
    except ValueError:
        return 0

class FinishedEvent:
    """Set when a job reaches a terminal stage in this process (a one-shot event on one lock: a
    ``threading.Event`` costs a Condition and two locks, and every job launched here makes one).

    Attributes
    ----------
    row : dict or None
        The job's final row (no graph) when the process that ended it had it at hand, so
        a waiter need not read it back; else None.
    """

    __slots__ = ("_lock", "_set", "row")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()  # released once, by set(): each waiter then takes and gives it back
        self._set = False
        self.row: dict | None = None

    def set(self) -> None:
        """Set it (once: :func:`_notify` takes the event out of the table first)."""
        if not self._set:
            self._set = True
            self._lock.release()

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until set (at most ``timeout`` seconds); whether it is set."""
        if self._set:
            return True
        if self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            self._lock.release()
        return self._set


# In-process wake-ups: Job.wait() sleeps on its job's event, set when the job ends here.
_events: dict[str, FinishedEvent] = {}
_events_lock = threading.Lock()


def finished_event(job_id: str) -> FinishedEvent:
    """Event set when job ``job_id`` reaches a terminal stage in this process."""
    with _events_lock:
        ev = _events.get(job_id)
        if ev is None:
            ev = _events[job_id] = FinishedEvent()
        return ev


def forget_event(job_id: str, event: FinishedEvent) -> None:
    """Drop a waiter's event once it stops waiting (no leak for jobs that ended elsewhere)."""
    with _events_lock:
        if _events.get(job_id) is event:
            del _events[job_id]


def _notify(job_id: str, row: dict | None = None) -> None:
    with _events_lock:
        ev = _events.pop(job_id, None)
    if ev is not None:
        ev.row = row
        ev.set()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_start_time(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (field 22 of ``/proc/<pid>/stat``).

    None where the platform has no ``/proc`` (or the process is gone).
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        # Field 2 (the command) is in parentheses and may hold spaces or ")": count after the last ")".
        return int(stat[stat.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


_own_start: tuple[int, int | None] | None = None


def own_start_time() -> int | None:
    """:func:`process_start_time` of this process (cached per pid, so forks get their own)."""
    global _own_start
    pid = os.getpid()
    if _own_start is None or _own_start[0] != pid:
        _own_start = (pid, process_start_time(pid))
    return _own_start[1]


def worker_alive(pid: int, start: int | None) -> bool:
    """True if process ``pid`` exists and, when ``start`` is known, started at ``start`` (not a reused pid)."""
    if not pid_alive(pid):
        return False
    if start is None:
        return True
    now = process_start_time(pid)
    return now is None or now == start


def worker_dead(row: Any, now: float) -> bool:
    """Whether the job of ``row`` (stage, host, pid, pid_start, heartbeat) lost its worker.

    On this host: its pid is gone or was reused (another start time), or, once claimed,
    its heartbeat is older than :data:`STALE_AFTER_S`. Elsewhere: claimed, and its
    heartbeat is that old (or missing). A QUEUED job is judged by the process that queued
    it, on this host only.
    """
    claimed = row["stage"] != "QUEUED"
    stale = row["heartbeat"] is None or now - row["heartbeat"] > STALE_AFTER_S
    if row["host"] == HOST and row["pid"] is not None:
        if not worker_alive(row["pid"], row["pid_start"]):
            return True
        return claimed and row["heartbeat"] is not None and stale
    return claimed and stale


class JobStore:
    """Rows of jobs, in ``<home>/jobs.sqlite`` or the database of ``settings.database_url``.

    Writes are single statements (atomic on their own) or transactions
    (:meth:`wf_widgets._db.Database.transaction`), so many threads, processes and hosts can
    share the store.

    Attributes
    ----------
    settings : Settings
    db : wf_widgets._db.Database
        Where the rows are.
    path : Path or None
        The SQLite file (None on PostgreSQL).
    where : str
        Where the rows are, for messages (the home folder in the embedded default).
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.db = open_database(settings, STORE, settings.home / FILE_NAME)
        self.path = self.db.path
        self.where = describe(settings)
        #: The files of big graph literals (shared with the layer store).
        self.blobs = _blobs.BlobStore.for_settings(settings)
        try:
            self.db.migrate(MIGRATIONS)
            columns = self.db.columns("jobs")
        except BaseException:
            self.db.close()
            raise
        #: Rows of jobs this process runs, not written yet (:mod:`wf_widgets.jobs.held`; every store of the database's).
        self._held = held_rows(self.db)
        #: Every column but the graph (what status readers fetch).
        self._no_graph = ", ".join(c for c in columns if c != "graph")
        self._columns = tuple(columns)

    @staticmethod
    def exists(settings: Settings) -> bool:
        """Whether ``settings`` may have a job store already (what reads without one use: opening makes one)."""
        return store_exists(settings, settings.home / FILE_NAME)

    def close(self) -> None:
        """Write the rows this process holds, then close the store's connections."""
        try:
            self._held.detach(self.db)
        finally:
            self.db.close()

    # Every statement first writes the rows this process holds (wf_widgets.jobs.held), so it never
    # reads past them; inside a transaction none does (its caller wrote them before it began).
    def _read(self, sql: str, params: Any = ()) -> Any:
        if self._held.pending() and not self.db.in_transaction():
            self._held.write()
        return self.db.read(sql, params)

    def _write(self, sql: str, params: Any = ()) -> Any:
        """One statement (on SQLite, this process's writers taking turns)."""
        if self._held.pending() and not self.db.in_transaction():
            self._held.write()
        return self.db.write(sql, params)

    def _transaction(self) -> Any:
        self._held.write()
        return self.db.transaction()

    def _conn(self) -> Any:
        """This thread's SQLite connection (tests and SQLite's own tools; none on PostgreSQL), the rows this
        process holds written first."""
        self._held.write()
        return self.db.conn()

    def checkpoint(self) -> None:
        """Keep the database's log small (SQLite: copy the WAL into the file and truncate it)."""
        self.db.checkpoint()

    def resolve(self, graph: dict) -> dict:
        """A stored graph with its big literals read back from their blob files."""
        return _blobs.resolve(graph, self.blobs)

    # -- rows -----------------------------------------------------------------------------
    @staticmethod
    def _row(row: Any) -> dict | None:
        if row is None:
            return None
        d = dict(row)
        for col in _JSON_COLUMNS:
            if d.get(col) is not None:
                d[col] = json.loads(d[col])
        if "attempt_codes" in d:
            d["attempt_codes"] = attempt_codes(d["attempt_codes"])
        return d

    def create(self, job_id: str, *, kind: str, graph: dict, geoctx: dict | None, format: dict,
               destination: dict, label: str | None = None, claim: bool = False,
               link_base: str | None = None, link_note: str | None = None, notify: dict | None = None,
               retries: int = 0, defer: bool = False) -> dict:
        """Insert a QUEUED row, or with ``claim`` a PREPARING row this process runs; returns it.

        ``notify``: what to send when the job ends for good (the normal form of
        :func:`wf_widgets.delivery.notify.normalize_notify`, or None); ``retries``: how many
        more attempts a transient failure gets.

        ``defer`` (with no retries: a job a thread of this process runs): the row is held
        (:mod:`wf_widgets.jobs.held`) and written later, with its final columns for a short
        job (one INSERT, grouped with others', instead of an INSERT and an UPDATE, each
        committed alone), by the ticker of :mod:`~wf_widgets.jobs.held` (ended rows within 0.5 s), and before any statement of this
        process on the store (:meth:`write_held`).

        The row records ``settings.user`` and ``settings.email`` as its owner (who launched it).

        ``link_base`` and ``link_note``: the base URL of the result's link, and the note that
        goes with it, when the worker needs the link (resolved by the launching process).

        Literals of ``graph`` over :data:`wf_widgets.blobs.INLINE_MAX_BYTES` are written as
        blob files first (the returned row keeps ``graph`` as given).

        Raises
        ------
        ValidationError
            The graph's literals exceed ``settings.max_literal_bytes``; nothing was stored.
        DiskFull
            No room on the home folder's disk; nothing was stored.
        """
        stored, keys = _blobs.externalize(graph, self.blobs, self.settings.max_literal_bytes)
        graph_text = json.dumps(stored)
        now = self.settings.time()
        started = now if claim else None
        row = {"id": job_id, "kind": kind, "graph": graph, "geoctx": geoctx, "format": format,
               "destination": destination, "label": label, "stage": "PREPARING" if claim else "QUEUED",
               "steps_done": 0, "steps_total": 0, "error_code": "NONE", "error_message": None, "created": now,
               "started": started, "finished": None, "updated": now, "result_path": None, "result_mimetype": None,
               "result_size": None, "result_sha256": None, "result_problem": None, "result_ref": None,
               "expires": None, "result_deleted": 0, "host": HOST,
               "pid": os.getpid(), "pid_start": own_start_time(), "heartbeat": started, "cancel_requested": 0,
               "blobs": keys or None, "link_base": link_base, "link_note": link_note,
               "owner": self.settings.user, "owner_email": self.settings.email, "link_revoked": 0, "notify": notify,
               "notify_state": None, "notify_attempts": 0, "notify_next": None, "notify_error": None,
               "retries": int(retries), "attempts": 1, "attempt_codes": [], "retry_at": None}
        values = {"id": job_id, "kind": kind, "graph": graph_text, "geoctx": json.dumps(geoctx) if geoctx is not None else None,
                  "format": json.dumps(format), "destination": json.dumps(destination), "label": label,
                  "stage": row["stage"], "created": now, "started": started, "updated": now, "host": HOST,
                  "pid": os.getpid(), "pid_start": row["pid_start"], "heartbeat": started,
                  "blobs": json.dumps(keys) if keys else None, "link_base": link_base, "link_note": link_note,
                  "owner": row["owner"], "owner_email": row["owner_email"],
                  "notify": json.dumps(notify) if notify is not None else None, "retries": int(retries)}
        if defer and not retries:  # (a retry's writes update the row: it must exist)
            self._held.hold(job_id, values)
        else:
            self._insert(values)
        if len(graph_text) > CHECKPOINT_AFTER_BYTES:
            self.checkpoint()
        return row

    def _insert(self, values: dict) -> None:
        cols = ", ".join(values)
        self._write(f"INSERT INTO jobs ({cols}) VALUES ({', '.join('?' * len(values))})", tuple(values.values()))

    def write_held(self, job_ids: Iterable[str] | None = None) -> None:
        """Write the held rows (:meth:`create` with ``defer``) of ``job_ids`` (None: all) now."""
        self._held.write(job_ids)

    def holds(self, job_id: str) -> bool:
        """Whether this process holds the row of ``job_id`` (not written yet: only this process knows of the job)."""
        return self._held.held(job_id)

    def get(self, job_id: str, graph: bool = True) -> dict | None:
        """The row of ``job_id`` (without the graph if ``graph`` is False), or None.

        The graph comes with its big literals read back from their blob files.
        """
        cols = "*" if graph else self._no_graph
        row = self._row(self._read(f"SELECT {cols} FROM jobs WHERE id = ?", (job_id,)).fetchone())
        if graph and row is not None and row.get("blobs"):
            row["graph"] = self.resolve(row["graph"])
        return row

    def status(self, job_id: str) -> dict | None:
        """The small, often-read columns of a row (no graph)."""
        row = self._read(
            "SELECT id, stage, steps_done, steps_total, error_code, error_message, cancel_requested, finished,"
            " expires, result_path, result_deleted, link_revoked, updated, attempts, attempt_codes, retry_at, notify_state"
            " FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._row(row)

    def list(self, limit: int = 50, stages: Iterable[str] | None = None, owner: str | None = None) -> list[dict]:
        """Most recent rows first (without graphs): ids are time-ordered.

        ``stages``: only jobs in these stages. ``owner``: only the jobs this user launched
        (and those of rows made before owners were recorded, which every user sees).
        """
        cols = ("id, kind, label, stage, steps_done, steps_total, error_code, error_message, created, started,"
                " finished, expires, result_deleted, result_size, format, destination, cancel_requested, owner,"
                " attempts, retries, attempt_codes, retry_at, notify_state")
        where, params = [], []
        if stages:
            stages = tuple(stages)
            where.append(f"stage IN ({','.join('?' * len(stages))})")
            params.extend(stages)
        if owner is not None:
            where.append("(owner = ? OR owner IS NULL)")
            params.append(owner)
        q = f"SELECT {cols} FROM jobs{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY id DESC LIMIT ?"
        return [self._row(r) for r in self._read(q, (*params, limit)).fetchall()]

    @staticmethod
    def visible(row: dict | None, user: str) -> bool:
        """Whether ``user`` may see the job of ``row``: they launched it, or it records no owner (made before owners were)."""
        return row is not None and row.get("owner") in (None, user)

    def find_ids(self, fragment: str, limit: int = 5, owner: str | None = None) -> tuple[list[str], int]:
        """Ids of the jobs that ``fragment`` names, newest first (at most ``limit``), and how many there are.

        A fragment names a job when it begins the job's id, or begins the random part of
        its id (what :func:`short_id` shows). Both are range scans of an index: the primary
        key, and ``jobs_id_fragment``.

        Parameters
        ----------
        fragment : str
            Hexadecimal digits (case-insensitive), 1 to 48 of them.
        limit : int
            Most ids returned.
        owner : str, optional
            Only the jobs this user may see (see :meth:`visible`).

        Raises
        ------
        ValidationError
            ``fragment`` is empty, too long or not hexadecimal.
        """
        ref = fragment.strip().lower() if isinstance(fragment, str) else fragment
        if not isinstance(ref, str) or not ref or len(ref) > 48 or not _HEX.issuperset(ref):
            raise ValidationError(
                f"A job id or id fragment is 1 to 48 hexadecimal digits (0-9, a-f), got {fragment!r}",
                field="job_id", value=fragment)
        parts: list[tuple[str, list]] = [("id >= ? AND id < ?", [ref, _after(ref)])]
        if len(ref) <= 48 - ID_TIME_CHARS:
            head, part = ref[:ID_FRAGMENT_CHARS], f"substr(id, {ID_TIME_CHARS + 1}, {ID_FRAGMENT_CHARS})"
            parts.append((f"{part} >= ? AND {part} < ? AND substr(id, {ID_TIME_CHARS + 1}, ?) = ?",
                          [head, _after(head), len(ref), ref]))
        if owner is not None:
            parts = [(f"{w} AND (owner = ? OR owner IS NULL)", [*p, owner]) for w, p in parts]
        matches = " UNION ".join(f"SELECT id FROM jobs WHERE {w}" for w, _ in parts)
        params = [p for _, ps in parts for p in ps]
        ids = [r[0] for r in self._read(f"{matches} ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()]
        total = (len(ids) if len(ids) < limit else
                 self._read(f"SELECT count(*) FROM ({matches}) AS m", params).fetchone()[0])
        return ids, total

    def many(self, job_ids: list[str]) -> dict[str, dict]:
        """Status rows of many jobs in one query (the jobs board polls with this)."""
        out: dict[str, dict] = {}
        for i in range(0, len(job_ids), 500):
            chunk = job_ids[i:i + 500]
            rows = self._read(
                "SELECT id, kind, label, stage, steps_done, steps_total, error_code, error_message, created, started,"
                f" finished, expires, result_deleted, result_problem, result_ref, result_size, destination, format, link_base,"
                f" link_revoked, attempts, retries, attempt_codes, retry_at, notify_state FROM jobs"
                f" WHERE id IN "
                f"({','.join('?' * len(chunk))})", chunk).fetchall()
            for r in rows:
                out[r["id"]] = self._row(r)
        return out

    # -- transitions (called by the worker) --------------------------------------------------
    # Writes are plain statements, never ``RETURNING``: SQLite commits an autocommit
    # statement when it is reset, and a ``RETURNING`` statement is reset only after Python
    # has fetched its row, so the write lock would be held while this thread waits for the
    # GIL (milliseconds with busy worker threads), and every other writer would wait too.
    # What a write needs to know comes from ``rowcount``; rows are read afterwards (reads
    # take no write lock) or composed from what the caller holds.
    def claim(self, job_id: str, started: float | None = None) -> dict | None:
        """QUEUED -> PREPARING, claiming the job for this process; the columns it set, or None if it
        wasn't QUEUED (or its cancellation was requested).

        For a worker that holds the row already (:meth:`start` reads it back). ``started``:
        when the job started, if before now (a thread of the process that queued it claims
        it late; see :func:`wf_widgets.jobs.runner.execute`).
        """
        now = self.settings.time()
        fields = {"stage": "PREPARING", "started": now if started is None else started, "updated": now,
                  "heartbeat": now, "host": HOST, "pid": os.getpid(), "pid_start": own_start_time()}
        cur = self._write(
            "UPDATE jobs SET stage = 'PREPARING', started = ?, updated = ?, heartbeat = ?, host = ?, pid = ?,"
            " pid_start = ? WHERE id = ? AND stage = 'QUEUED' AND cancel_requested = 0",
            (fields["started"], now, now, HOST, fields["pid"], fields["pid_start"], job_id))
        return fields if cur.rowcount == 1 else None

    def start(self, job_id: str) -> dict | None:
        """QUEUED -> PREPARING, claiming the job for this process; its row, or None if it wasn't QUEUED.

        The graph is as stored: big literals still refer to blob files (:meth:`resolve`).
        """
        if self.claim(job_id) is None:
            return None
        return self._row(self._read("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())

    def progress(self, job_id: str, *, stage: str | None = None, steps_done: int | None = None,
                 steps_total: int | None = None) -> bool:
        """Record progress and the heartbeat; returns True if cancellation was requested."""
        now = self.settings.time()
        sets, params = ["updated = ?", "heartbeat = ?"], [now, now]
        for col, val in (("stage", stage), ("steps_done", steps_done), ("steps_total", steps_total)):
            if val is not None:
                sets.append(f"{col} = ?")
                params.append(val)
        self._write(f"UPDATE jobs SET {', '.join(sets)} WHERE id = ?", params + [job_id])
        return self.cancel_requested(job_id)

    def cancel_requested(self, job_id: str) -> bool:
        """Whether the job's cancellation was requested (never, for a row still held: nobody else knows of it,
        and this process's requests write it first)."""
        if self.holds(job_id):
            return False
        row = self._read("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return bool(row and row[0])

    def finish(self, job_id: str, stage: str, *, error_code: str = "NONE", error_message: str | None = None,
               steps_done: int | None = None, steps_total: int | None = None, result_path: str | None = None, result_mimetype: str | None = None,
               result_size: int | None = None, result_ref: Any = None, expires: float | None = None,
               result_sha256: str | None = None, known: dict | None = None,
               unclaimed_started: float | None = None) -> dict | None:
        """Move a job to a terminal stage, with its result location or error; returns the row (no graph).

        ``known``: the job's row as the worker holds it (what :meth:`create` or :meth:`start`
        returned). With it, and ``steps_done`` and ``steps_total`` given, the returned row is
        that row with the columns written here, not read back; its ``cancel_requested`` is
        the flag as the worker last saw it (a request that came after is in the store).

        ``unclaimed_started``: the job was never claimed; a thread of the process that queued
        it ran it from that time. It is claimed and ended in this one statement, if it is
        still QUEUED and not cancelled; else nothing is written and None is returned (it was
        cancelled meanwhile: that ended it).
        """
        now = self.settings.time()
        ref_text = json.dumps(result_ref) if result_ref is not None else None
        code = attempt_code(stage, error_code)
        ended = {"stage": stage, "error_code": error_code, "error_message": error_message, "finished": now,
                 "updated": now, "steps_done": steps_done or 0, "steps_total": steps_total or 0,
                 "result_path": result_path, "result_mimetype": result_mimetype, "result_size": result_size,
                 "result_sha256": result_sha256, "result_ref": ref_text, "expires": expires, "heartbeat": None,
                 "attempt_codes": code}
        if unclaimed_started is not None:
            ended["started"] = unclaimed_started

        def end(values: dict) -> None:
            values.update(ended)
            if values["notify"] is not None:  # as _NOTIFY_DUE does
                values.update(notify_state="PENDING", notify_next=now)

        # A held row was never written, so never cancelled: it gets its final columns, still held.
        if not self._held.end(job_id, end):
            params = (stage, error_code, error_message, now, now, steps_done, steps_total, result_path,
                      result_mimetype, result_size, result_sha256, ref_text, expires, now, code)
            if unclaimed_started is None:
                self._write(f"{_FINISH} WHERE id = ?", params + (job_id,))
            elif self._write(f"{_FINISH}, started = ? WHERE id = ? AND stage = 'QUEUED' AND cancel_requested = 0",
                             params + (unclaimed_started, job_id)).rowcount != 1:
                return None
        if known is not None and steps_done is not None and steps_total is not None:
            row = dict.fromkeys(self._columns)  # every column (known holds them all, and the graph)
            row.update(known)
            row.pop("graph", None)
            row.update(stage=stage, error_code=error_code, error_message=error_message, finished=now, updated=now,
                       steps_done=steps_done, steps_total=steps_total, result_path=result_path,
                       result_mimetype=result_mimetype, result_size=result_size, result_sha256=result_sha256,
                       result_ref=json.loads(ref_text) if ref_text is not None else None, expires=expires,
                       heartbeat=None, retry_at=None, attempt_codes=[*(known.get("attempt_codes") or ()), code])
            if known.get("notify") is not None and known.get("notify_state") is None:
                row.update(notify_state="PENDING", notify_next=now)
            if unclaimed_started is not None:
                row["started"] = unclaimed_started
        else:
            row = self.get(job_id, graph=False)
        _notify(job_id, row)
        return row

    def heartbeat(self, job_ids: list[str]) -> None:
        """Refresh the heartbeat of running jobs (the runner's heartbeat thread)."""
        if job_ids:
            now = self.settings.time()
            self._write(
                f"UPDATE jobs SET heartbeat = ? WHERE id IN ({','.join('?' * len(job_ids))}) AND heartbeat IS NOT NULL",
                [now] + job_ids)

    # -- requests (called by anyone) ---------------------------------------------------------
    def request_cancel(self, job_id: str) -> bool:
        """Set the cancel flag; a QUEUED job is cancelled at once. False if already finished.

        One transaction, reading the stage with the row locked (SQLite's ``BEGIN IMMEDIATE``
        locks the file; PostgreSQL's ``SELECT ... FOR UPDATE`` the row): a worker's claim
        (one conditional statement) comes before it, or after it and finds the flag.
        """
        now = self.settings.time()
        with self._transaction():
            row = self._read(f"SELECT stage FROM jobs WHERE id = ?{self.db.dialect.for_update()}", (job_id,)).fetchone()
            if row is None or row[0] in TERMINAL:
                return False
            self._write("UPDATE jobs SET cancel_requested = 1, updated = ? WHERE id = ?", (now, job_id))
            if row[0] == "QUEUED":
                self._write("UPDATE jobs SET stage = 'CANCELLED', error_code = 'NONE', error_message = ?,"
                            f" finished = ?, retry_at = NULL, {_NOTIFY_DUE}, {_APPEND_CODE} WHERE id = ?",
                            ("Cancelled before it started", now, now, "CANCELLED", job_id))
        if row[0] == "QUEUED":
            _notify(job_id)
        return True

    def reap_stale(self, job_ids: Iterable[str] | None = None) -> int:
        """Mark jobs whose worker died FAILED with code INTERRUPT; returns how many.

        Dead is what :func:`worker_dead` says: on this host, the worker's pid is gone or
        reused, or its heartbeat is older than :data:`STALE_AFTER_S`; elsewhere, that
        heartbeat rule. A QUEUED job is reaped when the process that queued it on this host
        is gone and nothing claimed it. A live worker is never reaped. ``job_ids`` limits
        the check to these jobs (``Job.wait()`` checks its own).
        """
        now = self.settings.time()
        # "finished IS NULL" reads the partial index jobs_unfinished (only the jobs not ended).
        live = f"finished IS NULL AND retry_at IS NULL AND stage IN ('QUEUED', {', '.join(map(repr, ACTIVE))})"
        cols = "id, stage, host, pid, pid_start, heartbeat"
        if job_ids is None:
            rows = self._read(f"SELECT {cols} FROM jobs WHERE {live}").fetchall()
        else:
            ids = list(job_ids)
            rows = self._read(
                f"SELECT {cols} FROM jobs WHERE {live} AND id IN ({','.join('?' * len(ids))})", ids).fetchall()
        dead = [r["id"] for r in rows if worker_dead(r, now)]
        for job_id in dead:
            self.interrupt(job_id, "The job's worker process stopped before the job finished")
        return len(dead)

    def interrupt(self, job_id: str, message: str) -> bool:
        """End the attempt of a job whose worker was lost with code INTERRUPT; False if it had ended already.

        A job with retries left is queued for its next attempt (:meth:`requeue`: it waits
        for its ``retry_at``, and whoever sweeps then runs it, see
        :func:`wf_widgets.jobs.runner.resume_due`); any other is marked FAILED.
        """
        now = self.settings.time()
        row = self._read("SELECT stage, attempts, retries FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None or row["stage"] in TERMINAL:
            return False
        if row["attempts"] <= row["retries"]:
            if self.requeue(job_id, "INTERRUPT", message, now + retry_delay(self.settings, row["attempts"]),
                            attempts=row["attempts"]):
                return True
        cur = self._write(
            "UPDATE jobs SET stage = 'FAILED', error_code = 'INTERRUPT', error_message = ?, finished = ?,"
            f" updated = ?, heartbeat = NULL, retry_at = NULL, {_NOTIFY_DUE}, {_APPEND_CODE}"
            " WHERE id = ? AND stage NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')",
            (message, now, now, now, "INTERRUPT", job_id))
        if cur.rowcount == 1:
            _notify(job_id)
        return cur.rowcount == 1

    # -- retries ------------------------------------------------------------------------------
    def requeue(self, job_id: str, error_code: str, error_message: str, retry_at: float, *, attempts: int,
                unclaimed_started: float | None = None) -> bool:
        """End attempt number ``attempts`` of a job with ``error_code`` and queue its next attempt for ``retry_at``.

        One conditional statement: only if the job has not ended, is still at that attempt
        and its cancellation was not requested (False otherwise: the caller ends it). The row
        keeps its first start time, the error of this attempt (``error_code``,
        ``error_message``, appended to ``attempt_codes``) and belongs to no process until
        :meth:`claim_retry` (so it is never reaped while it waits).
        """
        now = self.settings.time()
        cur = self._write(
            "UPDATE jobs SET stage = 'QUEUED', error_code = ?, error_message = ?, updated = ?, heartbeat = NULL,"
            " steps_done = 0, host = NULL, pid = NULL, pid_start = NULL, started = COALESCE(started, ?),"
            f" attempts = attempts + 1, retry_at = ?, {_APPEND_CODE}"
            " WHERE id = ? AND attempts = ? AND stage NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')"
            " AND cancel_requested = 0",
            (error_code, error_message, now, unclaimed_started if unclaimed_started is not None else now, retry_at,
             error_code, job_id, attempts))
        return cur.rowcount == 1

    def due_retries(self, now: float, limit: int = 100) -> list[str]:
        """Ids of jobs queued for a next attempt due at ``now`` (the index ``jobs_retry_due``)."""
        rows = self._read("SELECT id FROM jobs WHERE retry_at IS NOT NULL AND retry_at <= ? AND stage = 'QUEUED'"
                          " ORDER BY retry_at LIMIT ?", (now, limit)).fetchall()
        return [r[0] for r in rows]

    def claim_retry(self, job_id: str, now: float | None = None) -> bool:
        """Take a due retry for this process: the row becomes a QUEUED job of this process (to submit); True if taken.

        One conditional statement, so of processes sweeping at once exactly one gets True.
        """
        now = self.settings.time() if now is None else now
        cur = self._write(
            "UPDATE jobs SET retry_at = NULL, host = ?, pid = ?, pid_start = ?, updated = ?"
            " WHERE id = ? AND stage = 'QUEUED' AND retry_at IS NOT NULL AND retry_at <= ? AND cancel_requested = 0",
            (HOST, os.getpid(), own_start_time(), now, job_id, now))
        return cur.rowcount == 1

    # -- notifications -------------------------------------------------------------------------
    def due_notifications(self, now: float, limit: int = 100) -> list[str]:
        """Ids of jobs whose notification is due at ``now``: PENDING, or SENDING past its lease (the index
        ``jobs_notify_due``)."""
        rows = self._read("SELECT id FROM jobs WHERE notify_state IN ('PENDING', 'SENDING') AND notify_next <= ?"
                          " ORDER BY notify_next LIMIT ?", (now, limit)).fetchall()
        return [r[0] for r in rows]

    def claim_notification(self, job_id: str, now: float, lease_s: float) -> dict | None:
        """Take the due notification of a job for ``lease_s`` seconds; its row (no graph), or None if not due.

        One conditional statement (PENDING, or SENDING whose sender's lease passed, and due):
        of senders racing, one gets the row. ``notify_attempts`` counts the delivery.
        """
        cur = self._write(
            "UPDATE jobs SET notify_state = 'SENDING', notify_attempts = notify_attempts + 1, notify_next = ?"
            " WHERE id = ? AND notify_state IN ('PENDING', 'SENDING') AND notify_next <= ?",
            (now + lease_s, job_id, now))
        return self.get(job_id, graph=False) if cur.rowcount == 1 else None

    def end_notification(self, job_id: str, state: str, *, next_at: float | None = None,
                         error: str | None = None) -> bool:
        """Record how a claimed delivery went: SENT, FAILED (for good), or PENDING again at ``next_at``."""
        cur = self._write(
            "UPDATE jobs SET notify_state = ?, notify_next = ?, notify_error = ? WHERE id = ? AND notify_state = 'SENDING'",
            (state, next_at, error, job_id))
        return cur.rowcount == 1

    def webhook_secret(self, owner: str, create: bool = True) -> str | None:
        """The webhook secret of user ``owner``, made (random) at its first use unless not ``create``."""
        row = self._read("SELECT secret FROM webhook_secrets WHERE owner = ?", (owner,)).fetchone()
        if row is None and create:
            self._write("INSERT INTO webhook_secrets (owner, secret, created) VALUES (?, ?, ?)"
                        " ON CONFLICT (owner) DO NOTHING", (owner, new_webhook_secret(), self.settings.time()))
            row = self._read("SELECT secret FROM webhook_secrets WHERE owner = ?", (owner,)).fetchone()
        return None if row is None else row[0]

    def rotate_webhook_secret(self, owner: str) -> str:
        """Replace the webhook secret of user ``owner`` with a new random one; returns it."""
        secret = new_webhook_secret()
        self._write("INSERT INTO webhook_secrets (owner, secret, created) VALUES (?, ?, ?) ON CONFLICT (owner)"
                    " DO UPDATE SET secret = excluded.secret, created = excluded.created",
                    (owner, secret, self.settings.time()))
        return secret

    def blob_refs(self, kept_since: float) -> set[str]:
        """Blob keys the rows still need (one query): unfinished jobs, and jobs that ended
        at or after ``kept_since`` whose result is not deleted.

        Reads the partial index ``jobs_with_blobs`` by end time: rows that ended before
        ``kept_since`` are not visited.
        """
        rows = self._read(
            "SELECT blobs FROM jobs WHERE blobs IS NOT NULL AND finished IS NULL"
            " UNION ALL SELECT blobs FROM jobs WHERE blobs IS NOT NULL AND finished >= ? AND result_deleted = 0",
            (kept_since,)).fetchall()
        return {key for r in rows for key in json.loads(r[0])}

    def stored_results(self) -> list[dict]:
        """Rows (no graph) whose result file is stored and not deleted (the index ``jobs_stored_results``)."""
        rows = self._read(
            f"SELECT {self._no_graph} FROM jobs WHERE result_path IS NOT NULL AND result_deleted = 0").fetchall()
        return [self._row(r) for r in rows]

    def expired(self, now: float) -> list[dict]:
        """Rows whose stored result is past its expiry and not yet deleted (the index ``jobs_stored_results``)."""
        rows = self._read(
            "SELECT id, result_path FROM jobs WHERE result_path IS NOT NULL AND result_deleted = 0 AND expires <= ?",
            (now,)).fetchall()
        return [dict(r) for r in rows]

    def mark_deleted(self, job_id: str) -> None:
        self._write("UPDATE jobs SET result_deleted = 1 WHERE id = ?", (job_id,))

    def revoke_link(self, job_id: str) -> bool:
        """Refuse every download link of a job from now on, in every server (``link_revoked = 1``).

        Returns False if the job has no stored result (nothing has a link) or its links were
        revoked already.
        """
        cur = self._write("UPDATE jobs SET link_revoked = 1, updated = ? WHERE id = ? AND result_path IS NOT NULL"
                          " AND link_revoked = 0", (self.settings.time(), job_id))
        return cur.rowcount == 1

    def renew_link(self, job_id: str, expires: float) -> bool:
        """Move the expiry of a job's stored result (and links) to ``expires``, while the data exists.

        One conditional statement: only a stored result that is not deleted, not revoked and
        not yet expired is renewed. Returns whether it was.
        """
        now = self.settings.time()
        cur = self._write("UPDATE jobs SET expires = ?, updated = ? WHERE id = ? AND result_path IS NOT NULL"
                          " AND result_deleted = 0 AND link_revoked = 0 AND expires > ?", (expires, now, job_id, now))
        return cur.rowcount == 1

    def live_results(self, now: float) -> list[dict]:
        """Rows with a stored result that is neither deleted nor past its expiry (what the sweep verifies;
        the index ``jobs_stored_results``)."""
        rows = self._read(
            "SELECT id, result_path, result_size, result_sha256, result_deleted, expires FROM jobs"
            " WHERE result_path IS NOT NULL AND result_deleted = 0 AND (expires IS NULL OR expires > ?)",
            (now,)).fetchall()
        return [dict(r) for r in rows]

    def mark_result_lost(self, job_id: str, note: str) -> bool:
        """Record that a job's result is missing or damaged (``result_deleted = 1``, ``result_problem = note``).

        Returns False if the result was already marked deleted (expired, or lost before).
        """
        row = self._write(
            "UPDATE jobs SET result_deleted = 1, result_problem = ? WHERE id = ? AND result_deleted = 0 RETURNING id",
            (note, job_id)).fetchone()
        return row is not None

    def unowned_results(self, names: list[str]) -> list[str]:
        """Which of the result file ``names`` (``<job id>.<ext>``) no row owns, in one query.

        A file is owned by the row of its job id while that job has not ended (its worker
        may be writing it), or when the row records it (``result_path``) and its result is
        not deleted. Files of unknown jobs, of jobs that ended without recording them (a
        worker killed while writing) and of deleted results (expired or lost) are not.
        List the folder before calling. A job run in its caller's thread may write its file
        before its row (``create(defer=True)``): the file of a job without a row
        is no orphan while the job was created less than :data:`ORPHAN_GRACE_S` from now
        (its id starts with the creation time).
        """
        if not names:
            return []
        rows = self._read(
            f"SELECT f.value, j.id FROM {self.db.dialect.json_list('f')} LEFT JOIN jobs AS j ON j.id = substr(f.value, 1, 48)"
            " WHERE j.id IS NULL OR (j.stage IN ('SUCCEEDED', 'FAILED', 'CANCELLED')"
            " AND (j.result_path IS NULL OR j.result_path != f.value OR j.result_deleted != 0))",
            (json.dumps(names),)).fetchall()
        now_ms, grace_ms = time.time() * 1000, ORPHAN_GRACE_S * 1000
        return [r[0] for r in rows if r[1] is not None or abs(_id_time_ms(r[0]) - now_ms) > grace_ms]

    # -- facts about the store (the meta table) ----------------------------------------------
    def last_sweep(self) -> float | None:
        """When a process last swept the home (``Settings.time`` seconds), or None if none did."""
        row = self._read("SELECT value FROM meta WHERE key = 'last_sweep'").fetchone()
        return None if row is None else float(row[0])

    def claim_sweep(self, now: float, interval_s: float) -> bool:
        """Record a sweep at ``now`` unless one was recorded less than ``interval_s`` from it; True if recorded.

        One statement, so of processes claiming at once exactly one gets True. Recent
        counts both ways (a process that read the clock just before another one claimed
        is behind it by a little); a record far in the future (a clock moved back) is not.
        """
        row = self._write(
            "INSERT INTO meta (key, value) VALUES ('last_sweep', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            " WHERE abs(meta.value - excluded.value) >= ? RETURNING value", (now, interval_s)).fetchone()
        return row is not None

    def record_sweep(self, now: float) -> None:
        """Record a sweep at ``now``, whenever the last one was (``wf-widgets sweep``, servers)."""
        self._write("INSERT INTO meta (key, value) VALUES ('last_sweep', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (now,))

    def unclaim_sweep(self, claimed: float, previous: float | None) -> None:
        """Put back the time of the sweep before ``claimed`` (that sweep failed), unless another was recorded since."""
        if previous is None:
            self._write("DELETE FROM meta WHERE key = 'last_sweep' AND value = ?", (claimed,))
        else:
            self._write("UPDATE meta SET value = ? WHERE key = 'last_sweep' AND value = ?", (previous, claimed))
