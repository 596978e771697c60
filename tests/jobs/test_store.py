"""The job store, on each database (the embedded SQLite file, PostgreSQL): who is dead (pid, pid reuse,
heartbeat), blob references, the sweep's claims and indexes, workers racing for a job, owners."""

import os
import re
import shutil
import sqlite3
import subprocess
import threading

import pytest

import wf_widgets as wf
from wf_widgets import _sqlite
from wf_widgets.config import Settings
from wf_widgets.jobs.plan import new_job_id, prepare, submit
from wf_widgets.jobs.store import HOST, MIGRATIONS, STALE_AFTER_S, JobStore, process_start_time

pytestmark = pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/stat"),
                                reason="process start times come from /proc (Linux)")


@pytest.fixture
def backend(make_backend, database):
    """An isolated Backend whose stores are on the test's database (the embedded SQLite files, then PostgreSQL)."""
    return make_backend(database_url=database)


def queued_row(store, job_id):
    return store.create(job_id, kind="Int", graph=wf.Int(1).to_json(), geoctx=None, format={"type": "json"},
                        destination={"type": "download"})


def running_row(store, job_id, **cols):
    queued_row(store, job_id)
    cols = {"stage": "RUNNING", "host": HOST, "pid": os.getpid(), "pid_start": process_start_time(os.getpid()),
            "heartbeat": store.settings.time(), **cols}
    store.db.write(f"UPDATE jobs SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?", (*cols.values(), job_id))


def test_a_reused_pid_is_reaped_and_a_live_job_is_not(backend):
    store = backend.jobs
    own = process_start_time(os.getpid())
    running_row(store, "a" * 48, pid_start=own + 1)  # our pid, another process's start time: pid reused
    running_row(store, "b" * 48)  # alive, beating
    running_row(store, "c" * 48, stage="QUEUED", heartbeat=None, pid_start=own - 1)  # its queuer is gone
    assert store.reap_stale() == 2
    for job_id in ("a" * 48, "c" * 48):
        row = store.status(job_id)
        assert (row["stage"], row["error_code"]) == ("FAILED", "INTERRUPT")
    assert store.status("b" * 48)["stage"] == "RUNNING"


def test_a_stale_heartbeat_on_this_host_is_reaped_even_if_the_pid_lives(backend):
    store = backend.jobs
    running_row(store, "a" * 48, heartbeat=backend.settings.time() - STALE_AFTER_S - 1)
    running_row(store, "b" * 48, heartbeat=backend.settings.time() - STALE_AFTER_S + 5)
    assert store.reap_stale() == 1
    assert store.status("a" * 48)["error_code"] == "INTERRUPT"
    assert store.status("b" * 48)["stage"] == "RUNNING"


def test_rows_record_the_start_time_of_their_process(backend):
    job = (wf.Int(1) + 1).compute(block=False)
    job.wait()
    row = backend.jobs.get(job.id, graph=False)
    assert row["pid"] == os.getpid() and row["pid_start"] == process_start_time(os.getpid())


def test_process_start_time_reads_field_22_whatever_the_command_name(tmp_path):
    odd = tmp_path / "a) b c"  # /proc/<pid>/stat shows the name in parentheses, spaces and all
    shutil.copy(shutil.which("sleep"), odd)
    proc = subprocess.Popen([str(odd), "30"])
    try:
        with open(f"/proc/{proc.pid}/stat") as f:
            assert "(a) b c)" in f.read()
        start = process_start_time(proc.pid)
        assert start is not None and start >= process_start_time(os.getpid())
        with open(f"/proc/{os.getpid()}/stat") as f:  # ours has no space in its name: field 22 by split()
            assert process_start_time(os.getpid()) == int(f.read().split()[21])
    finally:
        proc.kill()
        proc.wait()
    assert process_start_time(proc.pid) is None  # gone


def _ended(store, job_id, stage="SUCCEEDED", result_path=None):
    queued_row(store, job_id)
    store.finish(job_id, stage, result_path=result_path, result_size=1 if result_path else None,
                 expires=store.settings.time() + 3600 if result_path else None)


def test_unowned_results_are_the_files_no_row_owns(backend):
    store = backend.jobs
    a, b, c, d, e, f = (x * 48 for x in "abcdef")
    _ended(store, a, result_path=f"{a}.json")  # a live result
    running_row(store, b)  # its worker may be writing its file
    _ended(store, c, stage="FAILED")  # ended without recording a file: a worker killed while writing
    _ended(store, d, result_path=f"{d}.json")  # recorded another file than this one
    _ended(store, e, result_path=f"{e}.json")
    store.mark_deleted(e)  # expired (or lost): its file should be gone
    names = [f"{a}.json", f"{b}.json", f"{c}.json", f"{d}.msgpack", f"{e}.json", f"{f}.json"]  # f: no row
    assert sorted(store.unowned_results(names)) == [f"{c}.json", f"{d}.msgpack", f"{e}.json", f"{f}.json"]
    assert store.unowned_results([]) == []


def test_a_result_written_before_its_deferred_row_is_not_an_orphan(backend):
    """A blocking job's row may be written after its file (create(defer=True)): recent ids are spared."""
    (wf.Int(0) + 1).compute()  # the first launch sweeps
    launch = prepare(wf.Int(1) + 1)
    job = submit(launch, run_here=True)  # row deferred
    name = backend.results.store(job.id, "json", b"2")["result_path"]
    assert backend.results.orphans(backend.jobs) == []  # no row yet, but created just now
    assert backend.jobs.unowned_results([name, "0" * 12 + name[12:]]) == ["0" * 12 + name[12:]]  # an id from 1970


def test_one_sweep_is_claimed_per_interval(backend):
    store = backend.jobs
    assert store.last_sweep() is None
    assert store.claim_sweep(1000.0, 60.0) and store.last_sweep() == 1000.0
    assert not store.claim_sweep(1059.0, 60.0) and store.last_sweep() == 1000.0
    assert store.claim_sweep(1060.0, 60.0) and store.last_sweep() == 1060.0
    assert not store.claim_sweep(1001.0, 60.0)  # read the clock just before another claimed: recent too
    assert store.claim_sweep(500.0, 60.0)  # the clock moved back by more than the interval
    store.record_sweep(520.0)  # recorded whatever came before (wf-widgets sweep)
    assert store.last_sweep() == 520.0
    store.unclaim_sweep(520.0, 500.0)  # a failed sweep gives its turn back
    assert store.last_sweep() == 500.0
    store.unclaim_sweep(520.0, 100.0)  # not ours any more: left alone
    assert store.last_sweep() == 500.0
    store.unclaim_sweep(500.0, None)
    assert store.last_sweep() is None


def test_of_many_claiming_at_once_one_gets_the_sweep(backend):
    store = backend.jobs
    barrier = threading.Barrier(8)
    won = []

    def claim():
        barrier.wait()
        won.append(store.claim_sweep(store.settings.time(), 3600.0))  # each thread has its own connection

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(won) == [False] * 7 + [True]


def test_the_sweeps_queries_read_partial_indexes_not_the_history(backend, monkeypatch):
    store = backend.jobs
    now = backend.settings.time()
    statements = []
    read = store._read
    monkeypatch.setattr(store, "_read", lambda sql, params=(): statements.append((sql, params)) or read(sql, params))
    store.reap_stale()
    store.expired(now)
    store.live_results(now)
    store.stored_results()
    store.blob_refs(now - 86400.0)
    store.unowned_results(["a" * 48 + ".json"])
    monkeypatch.undo()
    assert len(statements) == 6
    for sql, params in statements:
        if store.db.dialect.name == "sqlite":
            plan = [r[3] for r in store.db.conn().execute("EXPLAIN QUERY PLAN " + sql, params)]
            assert not [step for step in plan if re.fullmatch(r"SCAN (jobs|j)", step)], (sql, plan)  # a full scan
            assert any("USING INDEX" in step for step in plan), (sql, plan)
        else:  # the tables are small: with sequential scans priced out, the plan shows which indexes can serve
            with store.db.transaction(lock=None):
                store.db.write("SET LOCAL enable_seqscan = off")
                plan = "\n".join(r[0] for r in store.db.read("EXPLAIN " + sql, params).fetchall())
            assert "Seq Scan" not in plan, (sql, plan)
            assert re.search(r"Index (Only )?Scan using (jobs_unfinished|jobs_stored_results|jobs_with_blobs|jobs_pkey)",
                             plan), (sql, plan)


def test_of_workers_racing_for_a_job_one_claims_it(backend):
    store = backend.jobs
    stores = [wf.Backend(backend.settings, sweep=False) for _ in range(4)]  # other processes' stores, as good as
    try:
        for n in range(10):
            job_id = f"{n:048x}"
            queued_row(store, job_id)
            barrier = threading.Barrier(8)
            won = []

            def claim(i):
                barrier.wait()
                won.append(stores[i % 4].jobs.start(job_id) is not None)

            threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert sorted(won) == [False] * 7 + [True]
            assert store.status(job_id)["stage"] == "PREPARING"
    finally:
        for other in stores:
            other.close()


@pytest.mark.parametrize("worker", ["claim", "finish_unclaimed"])
def test_a_cancel_racing_a_worker_ends_the_job_one_way(backend, worker):
    """A worker claiming (or ending unclaimed) a queued job while someone cancels it: exactly one of them wins."""
    store = backend.jobs
    other = wf.Backend(backend.settings, sweep=False)
    outcomes = set()
    try:
        for n in range(20):
            job_id = f"{n:048x}"
            queued_row(store, job_id)
            barrier = threading.Barrier(2)
            got = {}

            def work():
                barrier.wait()
                if worker == "claim":
                    got["worker"] = other.jobs.claim(job_id) is not None
                else:
                    got["worker"] = other.jobs.finish(job_id, "SUCCEEDED", steps_done=1, steps_total=1,
                                                      unclaimed_started=other.settings.time()) is not None

            def cancel():
                barrier.wait()
                got["cancel"] = store.request_cancel(job_id)

            threads = [threading.Thread(target=work), threading.Thread(target=cancel)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            row = store.get(job_id, graph=False)
            if worker == "claim":
                assert got["cancel"] and row["cancel_requested"] == 1  # a claimed job is still running: it sees the flag
                assert row["stage"] == ("PREPARING" if got["worker"] else "CANCELLED"), (got, row["stage"])
            else:
                assert got["worker"] != got["cancel"], got  # one ended it
                assert row["stage"] == ("SUCCEEDED" if got["worker"] else "CANCELLED")
            outcomes.add(got["worker"])
    finally:
        other.close()
    assert outcomes  # (which side wins is up to the scheduler; each run must end one way)


def test_rows_record_who_launched_them_and_lists_show_a_users_own(backend, make_backend):
    bob = make_backend(home=backend.settings.home, user="user:bob", email="bob@example.org",
                       database_url=backend.settings.database_url)
    a, b, c = "a" * 48, "b" * 48, "c" * 48
    queued_row(backend.jobs, a)
    queued_row(bob.jobs, b)
    queued_row(bob.jobs, c)
    backend.jobs.write_held()  # rows this process holds, written before a hand edit
    backend.jobs.db.write("UPDATE jobs SET owner = NULL, owner_email = NULL WHERE id = ?", (c,))  # made before owners
    row = backend.jobs.get(b)
    assert (row["owner"], row["owner_email"]) == ("user:bob", "bob@example.org")
    assert backend.jobs.get(a)["owner"] == "user:alice"
    assert [r["id"] for r in backend.jobs.list(owner="user:alice")] == [c, a]
    assert [r["id"] for r in backend.jobs.list(owner="user:bob")] == [c, b]
    assert [r["id"] for r in backend.jobs.list()] == [c, b, a]
    assert [r["id"] for r in backend.jobs.list(owner="user:bob", stages=["QUEUED"])] == [c, b]
    assert backend.jobs.list(owner="user:bob", stages=["RUNNING"]) == []


def test_finding_jobs_by_a_fragment_reads_indexes_not_the_history(backend, monkeypatch):
    store = backend.jobs
    for _ in range(6):  # six matches: the ids, then their count
        running_row(store, new_job_id(), stage="SUCCEEDED")
    statements = []
    read = store._read
    monkeypatch.setattr(store, "_read", lambda sql, params=(): statements.append((sql, params)) or read(sql, params))
    ids, total = store.find_ids("0", limit=5)
    store.find_ids("3fa9c2d1aa")
    assert total == 6 and len(ids) == 5 and ids == sorted(ids, reverse=True)
    assert len(statements) == 3
    if store.db.dialect.name != "sqlite":
        return  # the plan below is SQLite's
    for sql, params in statements:
        plan = [r[3] for r in store.db.conn().execute("EXPLAIN QUERY PLAN " + sql, params)]
        assert not [step for step in plan if re.fullmatch(r"SCAN jobs( USING COVERING INDEX \w+)?", step)], (sql, plan)
        assert any("jobs_id_fragment" in step for step in plan), (sql, plan)
        assert any(re.search(r"SEARCH jobs USING (COVERING )?INDEX sqlite_autoindex_jobs_1 \(id>\? AND id<\?\)", step)
                   for step in plan), (sql, plan)


def test_a_job_store_of_version_6_gets_the_fragment_index(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    conn = sqlite3.connect(home / "jobs.sqlite", isolation_level=None)
    _sqlite.migrate(conn, MIGRATIONS[:6])  # a home made before the fragment index
    conn.execute("INSERT INTO jobs (id, kind, graph, format, destination, stage, created, updated) VALUES"
                 " (?, 'Int', '{}', '{}', '{}', 'SUCCEEDED', 1, 1)", ("0191aaaaaaaa" + "3fa9c2d1" + "0" * 28,))
    conn.close()
    store = JobStore(Settings(home=home))
    try:
        indexes = {r[0] for r in store._conn().execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "jobs_id_fragment" in indexes
        assert store.find_ids("3FA9C") == (["0191aaaaaaaa3fa9c2d1" + "0" * 28], 1)
    finally:
        store.close()


def test_a_job_store_of_version_7_gets_the_revocation_column(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    conn = sqlite3.connect(home / "jobs.sqlite", isolation_level=None)
    _sqlite.migrate(conn, MIGRATIONS[:7])  # a home made before links could be revoked
    job_id = "0191aaaaaaaa" + "3fa9c2d1" + "0" * 28
    conn.execute("INSERT INTO jobs (id, kind, graph, format, destination, stage, created, updated, result_path,"
                 " expires) VALUES (?, 'Int', '{}', '{}', '{}', 'SUCCEEDED', 1, 1, ?, 5e9)", (job_id, job_id + ".json"))
    conn.close()
    store = JobStore(Settings(home=home))
    try:
        assert store.get(job_id)["link_revoked"] == 0 and store.status(job_id)["link_revoked"] == 0
        assert store.renew_link(job_id, 6e9) and store.get(job_id)["expires"] == 6e9
        assert store.revoke_link(job_id) and not store.revoke_link(job_id)  # once
        assert store.many([job_id])[job_id]["link_revoked"] == 1
        assert not store.renew_link(job_id, 7e9) and store.get(job_id)["expires"] == 6e9
    finally:
        store.close()


def test_renewal_needs_a_live_stored_result(tmp_path):
    store = JobStore(Settings(home=tmp_path / "home"))
    try:
        now = store.settings.time()
        nothing = new_job_id()
        for job_id, fields in ((nothing, {}), (new_job_id(), {"result_path": "x"}),
                               (new_job_id(), {"result_path": "x", "expires": now - 1})):
            store.create(job_id, kind="Int", graph={}, geoctx=None, format={"type": "json"},
                         destination={"type": "download"})
            store.finish(job_id, "SUCCEEDED", **fields)
            assert not store.renew_link(job_id, now + 100)  # no result, no expiry, or expired already
        assert not store.revoke_link(nothing)  # nothing stored: nothing to revoke
    finally:
        store.close()


# -- retries and notifications (versions 9, 10) ----------------------------------------------------------
def test_an_attempt_is_requeued_once_and_taken_by_one_process(backend):
    store = backend.jobs
    row = store.create("a" * 48, kind="Int", graph=wf.Int(1).to_json(), geoctx=None, format={"type": "json"},
                       destination={"type": "download"}, retries=2)
    assert (row["attempts"], row["retries"], row["attempt_codes"]) == (1, 2, [])
    now = backend.settings.time()
    assert store.requeue(row["id"], "TRANSIENT", "busy", now + 5, attempts=1)
    assert not store.requeue(row["id"], "TRANSIENT", "busy", now + 5, attempts=1)  # attempt 1 ended already
    status = store.status(row["id"])
    assert (status["stage"], status["attempts"], status["attempt_codes"], status["retry_at"]) == (
        "QUEUED", 2, ["TRANSIENT"], now + 5)
    assert store.due_retries(now) == [] and store.due_retries(now + 5) == [row["id"]]
    assert not store.claim_retry(row["id"], now)  # not due
    results = []
    threads = [threading.Thread(target=lambda: results.append(store.claim_retry(row["id"], now + 6)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    full = store.get(row["id"], graph=False)
    assert (full["retry_at"], full["pid"], full["host"]) == (None, os.getpid(), HOST)


def test_the_reaper_requeues_a_job_with_retries_left_and_fails_one_without(backend):
    store = backend.jobs
    running_row(store, "a" * 48, pid=999_999_999)
    store.db.write("UPDATE jobs SET retries = 1 WHERE id = ?", ("a" * 48,))
    assert store.reap_stale() == 1
    row = store.get("a" * 48, graph=False)
    assert (row["stage"], row["error_code"], row["attempts"], row["attempt_codes"], row["finished"]) == (
        "QUEUED", "INTERRUPT", 2, ["INTERRUPT"], None)
    assert row["retry_at"] == pytest.approx(backend.settings.time() + backend.settings.retry_backoff_s, abs=5)
    assert store.reap_stale() == 0  # a waiting retry is nobody's: never reaped
    store.db.write("UPDATE jobs SET stage = 'RUNNING', retry_at = NULL, host = ?, pid = 999999999, heartbeat = ?"
                   " WHERE id = ?", (HOST, backend.settings.time(), "a" * 48))
    assert store.reap_stale() == 1  # attempt 2 of 2 lost: the end
    row = store.get("a" * 48, graph=False)
    assert (row["stage"], row["attempts"], row["attempt_codes"]) == ("FAILED", 2, ["INTERRUPT", "INTERRUPT"])


def test_a_notification_is_due_once_when_the_job_ends_and_claimed_by_one_sender(backend):
    store = backend.jobs
    hook = {"webhook": "https://hooks.example.org/x", "email": False}
    row = store.create("a" * 48, kind="Int", graph=wf.Int(1).to_json(), geoctx=None, format={"type": "json"},
                       destination={"type": "download"}, notify=hook)
    store.create("b" * 48, kind="Int", graph=wf.Int(1).to_json(), geoctx=None, format={"type": "json"},
                 destination={"type": "download"})
    assert store.get(row["id"], graph=False)["notify"] == hook
    now = backend.settings.time()
    assert store.due_notifications(now + 1) == []
    store.finish("a" * 48, "SUCCEEDED")
    store.finish("b" * 48, "SUCCEEDED")
    assert store.due_notifications(now + 1) == ["a" * 48]
    claims = []
    threads = [threading.Thread(target=lambda: claims.append(store.claim_notification("a" * 48, now + 1, 60)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [claimed] = [c for c in claims if c is not None]
    assert (claimed["notify_state"], claimed["notify_attempts"]) == ("SENDING", 1)
    assert store.end_notification("a" * 48, "PENDING", next_at=now + 30, error="HTTP 500")
    assert store.due_notifications(now + 29) == [] and store.due_notifications(now + 30) == ["a" * 48]
    assert store.claim_notification("a" * 48, now + 30, 60) is not None
    assert store.end_notification("a" * 48, "SENT")
    assert not store.end_notification("a" * 48, "SENT")  # not held
    assert store.due_notifications(now + 10_000) == []


def test_webhook_secrets_are_one_per_user_and_rotate(backend):
    store = backend.jobs
    assert store.webhook_secret("user:alice", create=False) is None
    first = store.webhook_secret("user:alice")
    assert len(first) == 64 and store.webhook_secret("user:alice") == first
    assert store.webhook_secret("user:bob") != first
    second = store.rotate_webhook_secret("user:alice")
    assert second != first and store.webhook_secret("user:alice") == second


def test_a_job_store_of_version_7_opens_with_attempts_and_notifications(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    conn = sqlite3.connect(home / "jobs.sqlite", isolation_level=None)
    _sqlite.migrate(conn, MIGRATIONS[:7])  # a home made before retries and notifications
    conn.execute("INSERT INTO jobs (id, kind, graph, format, destination, stage, created, updated) VALUES"
                 " (?, 'Int', '{}', '{}', '{}', 'FAILED', 1, 1)", ("c" * 48,))
    conn.close()
    store = JobStore(Settings(home=home))
    try:
        row = store.get("c" * 48, graph=False)
        assert (row["attempts"], row["retries"], row["attempt_codes"], row["notify"], row["notify_state"]) == (
            1, 0, [], None, None)
        assert store.webhook_secret("user:alice")
    finally:
        store.close()
