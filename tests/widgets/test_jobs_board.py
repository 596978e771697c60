"""JobsBoard at the state level: rows, counts, the poller, actions, size and rate limits."""

from __future__ import annotations

import json
import logging
import random
import threading
import time

import pytest

import wf_widgets as wf
from wf_widgets.delivery import HANDLERS
from wf_widgets.errors import JobCancelled, JobInvalid
from wf_widgets.jobs.job import Job
from wf_widgets.jobs.plan import new_job_id
from wf_widgets.widgets import JobsBoard, _base
from wf_widgets.widgets.jobs_board import MAX_UPDATES_PER_S, POLL_INTERVAL_S, job_mimebundle

from ..jobs.conftest import slow_expected, slow_value
from .conftest import wait_until


def refreshed(board, predicate, what, timeout=60.0):
    """Refresh the board until ``predicate(board)`` holds."""
    return wait_until(lambda: predicate(board.refresh()), timeout=timeout, interval=0.05, what=what)


def act(board, op, job_id=None, n=[0]):
    """What the view does: set the _action trait."""
    n[0] += 1
    board.set_state({"_action": {"op": op, "id": job_id, "n": n[0]}})


def test_board_follows_a_job_to_success(backend):
    job = slow_value(15).compute(block=False)
    board = JobsBoard([job])
    assert board.rows == []  # nothing applied before a refresh (no kernel loop in pytest)
    refreshed(board, lambda b: b.rows[0]["stage"] in ("RUNNING", "SUCCEEDED"), "running")
    job.wait(60)
    board.refresh()
    (row,) = board.rows
    assert row["id"] == job.id and row["stage"] == "SUCCEEDED"
    assert row["steps"] == row["total"] > 0
    assert row["destination"] == "download" and row["format"] == "pyarrow"
    assert row["url"].startswith("http://127.0.0.1:") and f"/results/{job.id}?expires=" in row["url"]
    assert row["expires"] == pytest.approx(job.refresh().expires_datetime.timestamp(), abs=0.1)
    assert row["started"] >= row["created"] and row["finished"] >= row["started"]
    assert board.counts == {"SUCCEEDED": 1, "total": 1}
    assert "only while that process runs" in board.note  # links from the kernel-thread server say so
    board.close()


def test_board_shows_the_tile_key(backend):
    tile = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 256, 0)
    job = (wf.Int(1) + 1).compute(tile, block=False)
    job.wait(30)
    board = JobsBoard([job]).refresh()
    assert board.rows[0]["label"] == tile.key
    board.close()


def test_cancel_from_the_view(backend):
    job = slow_value().compute(block=False)
    board = JobsBoard([job])
    refreshed(board, lambda b: b.rows[0]["stage"] == "RUNNING", "running")
    assert board.counts.get("RUNNING") == 1
    act(board, "cancel", job.id)
    assert board.callback_error == ""
    with pytest.raises(JobCancelled):
        job.wait(30)
    refreshed(board, lambda b: b.rows[0]["stage"] == "CANCELLED", "cancelled")
    assert board.rows[0]["error"] and "url" not in board.rows[0]
    board.close()


def test_cancel_all(backend):
    jobs = [slow_value().compute(block=False) for _ in range(3)]
    board = JobsBoard(jobs)
    act(board, "cancel_all")
    for job in jobs:
        with pytest.raises(JobCancelled):
            job.wait(30)
    refreshed(board, lambda b: b.counts == {"CANCELLED": 3, "total": 3}, "all cancelled")
    board.close()


def test_retry_a_failed_job(backend):
    tile = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 256, 0)
    job = (wf.Int(1) // 0).compute(tile, format="json", block=False)
    with pytest.raises(JobInvalid):
        job.wait(30)
    board = JobsBoard([job]).refresh()
    assert board.rows[0]["stage"] == "FAILED"
    assert board.rows[0]["code"] == "INVALID" and "division" in board.rows[0]["error"]
    act(board, "retry", job.id)
    assert board.callback_error == ""
    (new,) = board.jobs
    assert new.id != job.id
    with pytest.raises(JobInvalid):
        new.wait(30)
    board.refresh()
    assert board.rows[0]["id"] == new.id and board.rows[0]["retry_of"] == job.id
    assert board.rows[0]["stage"] == "FAILED"  # same graph, same failure
    old_row, new_row = backend.jobs.get(job.id), backend.jobs.get(new.id)
    for key in ("graph", "geoctx", "format", "destination", "label", "kind"):
        assert new_row[key] == old_row[key]
    board.close()


def test_retry_a_cancelled_job_succeeds(backend):
    value = slow_value(10)
    job = value.compute(block=False)
    job.cancel()
    with pytest.raises(JobCancelled):
        job.wait(30)
    board = JobsBoard([job])
    new = board.retry(job.id)
    assert new.wait(60).result() == slow_expected(10)
    refreshed(board, lambda b: b.rows[0]["stage"] == "SUCCEEDED", "retried job succeeded")
    board.close()


def test_retry_only_for_failed_or_cancelled_and_errors_show(backend, caplog):
    job = (wf.Int(1) + 1).compute(block=False)
    job.wait(30)
    board = JobsBoard([job])
    with caplog.at_level(logging.ERROR, logger="wf_widgets.widgets"):
        act(board, "retry", job.id)
    assert board.callback_error.startswith("ValidationError: Only a failed or cancelled job can be retried")
    assert any(r.exc_info for r in caplog.records)
    act(board, "explode")
    assert board.callback_error == ("ValueError: Unknown jobs board action 'explode'; known: 'cancel', "
                                    "'cancel_all', 'retry', 'retry_failed', 'renew_link', 'revoke_link'")
    act(board, "cancel", job.id)  # a successful action clears the line
    assert board.callback_error == ""
    board.close()


def test_retry_failed_launches_every_failed_job_again_keeping_notify_and_retries(backend, monkeypatch, tmp_path):
    backend.settings.retry_backoff_s = 0.01
    handler = HANDLERS["download"]
    deliver = type(handler).deliver
    counter, lock = tmp_path / "count", threading.Lock()

    def fails_twice(self, b, row, value):  # the first two deliveries fail transiently (a counter file)
        with lock:
            n = int(counter.read_text()) if counter.exists() else 0
            counter.write_text(str(n + 1))
        if n < 2:
            raise wf.errors.JobTransient("the disk was busy")
        return deliver(self, b, row, value)

    monkeypatch.setattr(type(handler), "deliver", fails_twice)
    failing = [wf.Int(i).compute(block=False) for i in (1, 2)]  # no retries: each fails once
    for job in failing:
        with pytest.raises(wf.errors.JobTransient):
            job.wait(30)
    ok = wf.Int(3).compute(block=False).wait(30)
    invalid = (wf.Int(1) // 0).compute(block=False, retries=1)
    with pytest.raises(JobInvalid):
        invalid.wait(30)
    board = JobsBoard([*failing, ok, invalid]).refresh()
    assert board.counts == {"FAILED": 3, "SUCCEEDED": 1, "total": 4}
    assert board.rows[3]["attempts"] == 1 and board.rows[3]["retries"] == 1  # a job with retries shows them
    assert "attempts" not in board.rows[2]
    act(board, "retry_failed")
    assert board.callback_error == ""
    new = board.jobs
    assert new[2] is ok and all(j.id != old.id for j, old in zip(new[:2] + new[3:], failing + [invalid]))
    assert [new[0].result(timeout=30), new[1].result(timeout=30)] == [1, 2]
    with pytest.raises(JobInvalid):
        new[3].wait(30)
    assert new[3].retries == 1 and new[3].attempts == 1  # kept its retries; INVALID is not retried
    refreshed(board, lambda b: b.counts == {"SUCCEEDED": 3, "FAILED": 1, "total": 4}, "the retries ended")
    assert [r.get("retry_of") for r in board.rows] == [failing[0].id, failing[1].id, None, invalid.id]
    board.close()


def test_rows_show_the_attempts_of_a_job_with_retries(backend, monkeypatch, tmp_path):
    backend.settings.retry_backoff_s = 30.0

    def busy(self, b, row, value):
        raise wf.errors.JobTransient("the disk was busy")

    monkeypatch.setattr(type(HANDLERS["download"]), "deliver", busy)
    job = wf.Int(1).compute(block=False, retries=2)
    board = JobsBoard([job])
    refreshed(board, lambda b: b.rows[0].get("retry_at") is not None, "the wait for attempt 2")
    row = board.rows[0]
    assert (row["stage"], row["attempts"], row["retries"], row["attempt_codes"]) == ("QUEUED", 2, 2, ["TRANSIENT"])
    job.cancel()
    refreshed(board, lambda b: b.rows[0]["stage"] == "CANCELLED", "the cancellation")
    assert board.rows[0]["attempt_codes"] == ["TRANSIENT", "CANCELLED"] and "retry_at" not in board.rows[0]
    board.close()


def test_result_cells_for_each_destination(make_backend):
    backend = make_backend(email="me@example.org", public_url="https://wf.example.org")
    now = backend.settings.time()

    def finished(destination, stage="SUCCEEDED", **fields):
        job_id = new_job_id()
        backend.jobs.create(job_id, kind="Image", graph={}, geoctx=None, format={"type": "geotiff"},
                            destination=destination, label="256:0:10.0:13:-34:1542")
        backend.jobs.finish(job_id, stage, **fields)
        return Job(job_id, backend)

    email = finished({"type": "email", "subject": "s", "body": "b"}, result_path="x", expires=now + 3600)
    image = {"id": "org:p:img", "name": "img", "product_id": "org:p", "acquired": "2020-01-01"}
    catalog = finished({"type": "catalog", "image": image, "overwrite": False}, result_ref={"id": "org:p:img"})
    failed = finished({"type": "download"}, "FAILED", error_code="DESTINATION", error_message="no room")
    expired = finished({"type": "download"}, result_path="x", expires=now - 1)
    backend.jobs.mark_deleted(expired.id)
    lost = finished({"type": "download"}, result_path="y", expires=now + 3600)
    backend.jobs.mark_result_lost(lost.id, "The stored result of job x is missing")
    board = JobsBoard([email, catalog, failed, expired, lost]).refresh()
    rows = {r["id"]: r for r in board.rows}
    assert rows[email.id]["email"] == "me@example.org"
    assert rows[email.id]["url"].startswith(f"https://wf.example.org/results/{email.id}?expires=")
    assert rows[catalog.id]["image"] == {"id": "org:p:img", "name": "img", "product_id": "org:p"}
    assert "url" not in rows[catalog.id]
    assert rows[failed.id]["error"] == "no room" and rows[failed.id]["code"] == "DESTINATION"
    assert rows[expired.id]["expired"] is True and "url" not in rows[expired.id]
    assert rows[lost.id]["lost"] == "The stored result of job x is missing"  # missing, not "expired"
    assert "expired" not in rows[lost.id] and "url" not in rows[lost.id]
    assert board.counts == {"SUCCEEDED": 4, "FAILED": 1, "total": 5}
    assert board.note == ""  # WF_WIDGETS_PUBLIC_URL links outlive the kernel
    board.close()


def test_poller_stops_when_done_and_restarts_on_add(backend):
    job = slow_value(10).compute(block=False)
    board = JobsBoard([job])
    assert board.polling
    job.wait(60)
    wait_until(lambda: not board.polling, timeout=10, what="poller stopped")
    board.refresh()
    assert board.rows[0]["stage"] == "SUCCEEDED"
    second = slow_value(10).compute(block=False)
    board.add(second, job)  # a job already shown is not added twice
    assert board.polling
    assert [j.id for j in board.jobs] == [job.id, second.id]
    second.wait(60)
    wait_until(lambda: not board.polling, timeout=10, what="poller stopped again")
    # the poller queued the final rows for the (absent) kernel loop: refresh applies them
    board.refresh()
    assert board.counts == {"SUCCEEDED": 2, "total": 2}
    board.close()


class ImmediateLoop:
    """Stands in for the kernel's IOLoop: runs callbacks at once (in the poller's thread)."""

    def add_callback(self, fn, *args):
        fn(*args)


def test_500_jobs_stay_small_and_slow(make_backend, capsys):
    backend = make_backend(public_url="https://wf-widgets.example.org/hub/user/someone/wf-widgets")
    now = backend.settings.time()
    jobs = []
    for i in range(500):
        job_id = new_job_id()
        row = backend.jobs.create(job_id, kind="Image", graph={"op": "x"}, geoctx=None,
                                  format={"type": "geotiff"}, destination={"type": "download"},
                                  label=f"1024:16:10.0:13:{-34 + i % 50}:{1542 + i // 50}")
        if i % 2:  # half of them succeeded: the biggest rows, with a signed link
            backend.jobs.finish(job_id, "SUCCEEDED", steps_done=21, steps_total=21, result_path="r",
                                expires=now + 864000)
            row = backend.jobs.get(job_id, graph=False)
        jobs.append(Job(job_id, backend, _row=row))
    active = [j.id for j in jobs if j.stage == "QUEUED"]

    board = JobsBoard(page_size=500)  # every row on one page: the biggest state a board sends
    board._poller.loop = ImmediateLoop()
    changes, messages = [], []
    board.observe(lambda change: changes.append(time.monotonic()), names=["rows"])
    original_send = board._send
    board._send = lambda msg, buffers=None: (messages.append(time.monotonic()), original_send(msg, buffers))

    stop = threading.Event()

    def churn():  # progress on random jobs, as fast as SQLite takes it
        rng = random.Random(0)
        step = 0
        while not stop.is_set():
            step += 1
            backend.jobs.progress(rng.choice(active), stage="RUNNING", steps_done=step % 21, steps_total=21)

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        start = time.monotonic()
        board.add(*jobs)
        time.sleep(2.0)  # the measurement window itself: updates are counted over real time
        elapsed = time.monotonic() - start
    finally:
        stop.set()
        worker.join()
        board.stop()

    size = len(json.dumps(board.rows))
    state_size = len(json.dumps(board.get_state(key=["rows", "counts", "_clock", "note"])))
    rate = len(changes) / elapsed
    # no more than one update per POLL_INTERVAL_S in any window, whatever the churn
    gaps = [b - a for a, b in zip(changes, changes[1:])]
    with capsys.disabled():
        print(f"\n500-job board: rows {size / 1e3:.0f} kB, synced state {state_size / 1e3:.0f} kB, "
              f"{len(changes)} updates ({len(messages)} messages) in {elapsed:.2f} s = {rate:.2f}/s, "
              f"min gap {min(gaps) if gaps else float('nan'):.3f} s")
    assert len(board.rows) == 500
    assert size < 1_000_000 and state_size < 1_000_000
    assert len(changes) >= 3  # it did follow the churn
    assert rate <= 5 and MAX_UPDATES_PER_S <= 5
    assert len(messages) <= len(changes) + 1  # rows, counts and clock go in one message
    assert all(gap >= POLL_INTERVAL_S * 0.9 for gap in gaps)
    board.close()


def test_an_error_reading_the_store_is_shown_and_stops_the_poller(backend, monkeypatch):
    job = (wf.Int(1) + 1).compute(block=False)
    job.wait(30)

    def broken(ids):
        raise RuntimeError("the job store is gone")

    monkeypatch.setattr(backend.jobs, "many", broken)
    board = JobsBoard()
    board._poller.loop = ImmediateLoop()
    board.add(job)
    wait_until(lambda: not board.polling, timeout=10, what="poller stopped")
    assert board.callback_error == "RuntimeError: the job store is gone"
    board.close()


def test_unknown_kwargs_and_add_checks(backend):
    with pytest.raises(TypeError, match="JobsBoard\\(\\) got unexpected keyword argument\\(s\\) 'job'"):
        JobsBoard(job=[])
    with pytest.raises(TypeError, match="takes Job objects"):
        JobsBoard().add("not a job")


def test_job_mimebundle_is_a_live_board(backend):
    job = (wf.Int(1) + 1).compute(block=False)
    job.wait(30)
    bundle = job_mimebundle(job)
    assert bundle["text/plain"] == repr(job)
    assert "model_id" in bundle["application/vnd.jupyter.widget-view+json"]


def test_job_card(backend):
    from wf_widgets._cards import job_card

    ok = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    card = job_card(ok)
    assert ok.id in card and "SUCCEEDED" in card and ">download</a>" in card
    bad = (wf.Int(1) // 0).compute(block=False)
    with pytest.raises(JobInvalid):
        bad.wait(30)
    assert "division" in job_card(bad) and "</a>" not in job_card(bad)


def test_static_path_wheel_and_checkout(tmp_path, monkeypatch):
    package = tmp_path / "site" / "wf_widgets"
    (package / "static").mkdir(parents=True)
    (package / "static" / "jobs_board.js").write_text("// wheel")
    monkeypatch.setattr(_base, "PACKAGE_DIR", package)
    assert _base.static_path("jobs_board.js") == package / "static" / "jobs_board.js"

    checkout = tmp_path / "repo" / "wf_widgets"
    checkout.mkdir(parents=True)
    (tmp_path / "repo" / "js").mkdir()
    (tmp_path / "repo" / "js" / "jobs_board.js").write_text("// checkout")
    monkeypatch.setattr(_base, "PACKAGE_DIR", checkout)
    assert _base.static_path("jobs_board.js") == tmp_path / "repo" / "js" / "jobs_board.js"
    with pytest.raises(FileNotFoundError, match="nope.js"):
        _base.static_path("nope.js")


def test_the_real_view_files_exist():
    for name in ("jobs_board.js", "jobs_board.css"):
        assert _base.static_path(name).is_file()
    assert "export default" in _base.static_path("jobs_board.js").read_text()
    assert JobsBoard._esm  # read from the file


PUBLIC = "https://wf-widgets.example.org"


def made_jobs(backend, n: int, finished_every: int = 1) -> list[Job]:
    """``n`` jobs launched together (rows written directly); every ``finished_every``-th one SUCCEEDED."""
    now = backend.settings.time()
    conn = backend.jobs._conn()
    jobs = []
    conn.execute("BEGIN")
    for i in range(n):
        job_id = new_job_id()
        row = backend.jobs.create(job_id, kind="Int", graph={"op": "x"}, geoctx=None, format={"type": "json"},
                                  destination={"type": "download"}, label=f"1024:16:10.0:13:{i % 100}:{i // 100}")
        jobs.append(Job(job_id, backend, _row=row))
    conn.execute("COMMIT")
    conn.execute("BEGIN")
    for i, job in enumerate(jobs):
        if i % finished_every == 0:
            backend.jobs.finish(job.id, "SUCCEEDED", result_path="r", expires=now + 3600)
    conn.execute("COMMIT")
    return jobs


def test_rows_name_jobs_by_context_and_a_fragment_that_differs(make_backend):
    backend = make_backend(public_url=PUBLIC)  # links without starting a kernel-thread server
    jobs = made_jobs(backend, 20)
    board = JobsBoard(jobs).refresh()
    assert len({job.id[:8] for job in jobs}) < 20  # launched together: the ids' starts repeat
    assert len({row["short"] for row in board.rows}) == 20  # the fragments don't
    for row, job in zip(board.rows, jobs):
        assert row["short"] == job.short_id and wf.Job.get(row["short"]) == job
    board.close()


def test_thousands_of_jobs_page_by_page(make_backend):
    backend = make_backend(public_url=PUBLIC)  # links without starting a kernel-thread server
    jobs = made_jobs(backend, 3000, finished_every=2)  # 1500 SUCCEEDED, 1500 QUEUED
    board = JobsBoard()
    assert board.page_size == 100
    read = []
    many = backend.jobs.many
    backend.jobs.many = lambda ids: (read.append(len(ids)), many(ids))[1]
    board.add(*jobs)
    board.stop()
    board.refresh()
    assert [row["id"] for row in board.rows] == [job.id for job in jobs[:100]]
    assert board.counts == {"QUEUED": 1500, "SUCCEEDED": 1500, "total": 3000}  # over every page
    assert board.pages == 30
    state = json.dumps(board.get_state(key=["rows", "counts", "_clock", "note", "page", "page_size"]))
    assert len(state) < 60_000

    read.clear()
    board.refresh()  # ended jobs off the page are not read again: the 1500 queued ones, and the page's 50 ended
    assert read == [1550]

    board.set_state({"page": 7})  # what the view's "Next" does
    assert board.page == 7 and [row["id"] for row in board.rows] == [job.id for job in jobs[700:800]]
    assert board.counts["total"] == 3000
    board.set_state({"page": 99})  # past the end: the last page
    assert board.page == 29 and [row["id"] for row in board.rows] == [job.id for job in jobs[2900:]]
    board.page = -3
    assert board.page == 0

    for job in jobs[1:400:2]:  # queued jobs on pages 0-3 end; the board counts them wherever they are
        backend.jobs.request_cancel(job.id)
    board.refresh()
    assert board.counts == {"QUEUED": 1300, "SUCCEEDED": 1500, "CANCELLED": 200, "total": 3000}
    assert board.rows[1]["stage"] == "CANCELLED"

    board.page_size = 1000
    assert board.pages == 3 and len(board.rows) == 1000
    with pytest.raises(wf.errors.ValidationError, match="page_size must be 1 to 1000, got 0"):
        board.page_size = 0
    board.close()


def test_a_snapshot_of_another_page_is_not_applied(make_backend):
    backend = make_backend(public_url=PUBLIC)  # links without starting a kernel-thread server
    jobs = made_jobs(backend, 150)
    board = JobsBoard(jobs, page_size=100)
    board.stop()
    stale = board._collect(force=True)  # built for page 0 ...
    board.page = 1  # ... then the view moves to page 1
    board._apply(stale)
    assert [row["id"] for row in board.rows] == [job.id for job in jobs[100:]]
    board.close()
