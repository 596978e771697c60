"""The job store's schema: its migrations, oldest first (:data:`MIGRATIONS`).

Each version is a script for SQLite or PostgreSQL (:class:`wf_widgets._db.Migration`
templates name the dialect's column types); a home or database made by an earlier version
is brought up to date at first use. Append a version, never edit one.
"""

from __future__ import annotations

from .._db import Migration

# Migrations: as str, SQLite's scripts; their templates name the dialect's column types ({real}, {int}, ...:
# wf_widgets._db.Migration, Dialect.types).
_SCHEMA = Migration("""
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    graph TEXT NOT NULL,
    geoctx TEXT,
    format TEXT NOT NULL,
    destination TEXT NOT NULL,
    label TEXT,
    stage TEXT NOT NULL,
    steps_done {int} NOT NULL DEFAULT 0,
    steps_total {int} NOT NULL DEFAULT 0,
    error_code TEXT NOT NULL DEFAULT 'NONE',
    error_message TEXT,
    created {real} NOT NULL,
    started {real},
    finished {real},
    updated {real} NOT NULL,
    result_path TEXT,
    result_mimetype TEXT,
    result_size {int},
    result_ref TEXT,
    expires {real},
    result_deleted {int} NOT NULL DEFAULT 0,
    host TEXT,
    pid {int},
    heartbeat {real},
    cancel_requested {int} NOT NULL DEFAULT 0
);
""")
#: Version 3: the start time of the worker process (``pid_start``, clock ticks since boot, so a
#: reused pid is told apart) and the blob files of the graph's big literals (``blobs``, JSON list).
_V3 = Migration("""
ALTER TABLE jobs ADD COLUMN pid_start {int};
ALTER TABLE jobs ADD COLUMN blobs TEXT;
""")
#: Version 5: what the sweep reads, without scanning the history. Partial indexes, each holding
#: only the rows a query of the sweep looks for, and keyed on columns that change at most once
#: per job (so ``start``, ``progress`` and the heartbeat never touch them): ``jobs_unfinished``
#: (jobs not ended: :meth:`JobStore.reap_stale`), ``jobs_stored_results`` (results stored and
#: not deleted, by expiry: :meth:`JobStore.expired`, :meth:`JobStore.live_results`),
#: ``jobs_with_blobs`` (rows using blob files, by end time: :meth:`JobStore.blob_refs`). And
#: ``meta``, small facts about the store (``last_sweep``: when a process last swept the home,
#: on the clock of ``Settings.time``).
_V5 = Migration("""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value{number});
CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs(id) WHERE finished IS NULL;
CREATE INDEX IF NOT EXISTS jobs_stored_results ON jobs(expires) WHERE result_path IS NOT NULL AND result_deleted = 0;
CREATE INDEX IF NOT EXISTS jobs_with_blobs ON jobs(finished) WHERE blobs IS NOT NULL;
""")
#: Version 6: who launched the job (``settings.user``, and ``settings.email``): the worker acts with
#: that user's rights, and users see their own jobs only (rows without an owner: everyone's).
_V6 = Migration("""
ALTER TABLE jobs ADD COLUMN owner TEXT;
ALTER TABLE jobs ADD COLUMN owner_email TEXT;
""")
#: Version 7: jobs by a fragment of their id's random part (what the jobs board and ``wf-widgets
#: jobs`` show; :meth:`JobStore.find_ids`). Ids of jobs launched together share their first
#: :data:`ID_TIME_CHARS` characters (the time), so a prefix of the id tells them apart only past
#: those; the first :data:`ID_FRAGMENT_CHARS` characters after them do. An expression index on
#: them makes a fragment a range scan (measured at 100,000 jobs: 0.01 ms instead of a 21 ms
#: scan; 4 to 7 us more per insert and 6 % more file: benchmarks/job_lookup.py).
_V7 = Migration("""
CREATE INDEX IF NOT EXISTS jobs_id_fragment ON jobs ((substr(id, 13, 8)));
""")
#: Version 8: a job's download links revoked by its owner (:meth:`JobStore.revoke_link`): the
#: server refuses every link of the job, whatever its signature and expiry (it reads the row by
#: its primary key anyway).
_V8 = Migration("""
ALTER TABLE jobs ADD COLUMN link_revoked {int} NOT NULL DEFAULT 0;
""")
#: Version 9: notifications (:mod:`wf_widgets.delivery.notify`). ``notify`` (JSON: ``{"webhook": url or
#: null, "email": bool}``, null: none asked); ``notify_state``: null (nothing to send yet), PENDING (the job
#: ended for good: due at ``notify_next``), SENDING (claimed by a sender until ``notify_next``, its lease),
#: SENT or FAILED (redeliveries used up; ``notify_error`` says why); ``notify_attempts``: deliveries tried.
#: The table of webhook secrets, one per user (when ``WF_WIDGETS_WEBHOOK_SECRET`` is not set).
_V9 = Migration("""
ALTER TABLE jobs ADD COLUMN notify TEXT;
ALTER TABLE jobs ADD COLUMN notify_state TEXT;
ALTER TABLE jobs ADD COLUMN notify_attempts {int} NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN notify_next {real};
ALTER TABLE jobs ADD COLUMN notify_error TEXT;
CREATE INDEX IF NOT EXISTS jobs_notify_due ON jobs(notify_next) WHERE notify_state IN ('PENDING', 'SENDING');
CREATE TABLE IF NOT EXISTS webhook_secrets (owner TEXT PRIMARY KEY, secret TEXT NOT NULL, created {real} NOT NULL);
""")
#: Version 10: retries (``compute(retries=N)``). ``retries``: how many more attempts a transient failure
#: may have; ``attempts``: attempts started (1 for rows made before); ``attempt_codes``: the error code
#: of each ended attempt, comma-separated (``NONE`` for a success, ``CANCELLED``); ``retry_at``: a job
#: QUEUED for its next attempt is due then (null otherwise; such a row belongs to no process until
#: :meth:`JobStore.claim_retry`).
_V10 = Migration("""
ALTER TABLE jobs ADD COLUMN retries {int} NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN attempts {int} NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN attempt_codes TEXT;
ALTER TABLE jobs ADD COLUMN retry_at {real};
CREATE INDEX IF NOT EXISTS jobs_retry_due ON jobs(retry_at) WHERE retry_at IS NOT NULL;
""")
#: Schema migrations, oldest first (see :meth:`wf_widgets._db.Database.migrate`); append, never edit.
MIGRATIONS: tuple[str, ...] = (
    _SCHEMA,
    # 2: the stored result's SHA-256 checksum, and why a result was lost before its expiry
    # (missing or damaged; see wf_widgets.delivery.results).
    "ALTER TABLE jobs ADD COLUMN result_sha256 TEXT;\nALTER TABLE jobs ADD COLUMN result_problem TEXT;",
    _V3,
    # 4: the base URL of the result's link and its note, resolved where the job was launched
    # (for destinations whose worker needs the link: an email carries it).
    "ALTER TABLE jobs ADD COLUMN link_base TEXT;\nALTER TABLE jobs ADD COLUMN link_note TEXT;",
    _V5,
    _V6,
    _V7,
    _V8,
    _V9,
    _V10,
)
