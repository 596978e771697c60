"""Retries (``compute(retries=N)``): transient failures run again as new attempts of the same job, in the
worker (blocking and not) and after a killed worker (reaped as INTERRUPT, run again by who notices);
other failures end the job; the webhook fires once, after the last attempt; cancelling a waiting retry."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import wf_widgets as wf
from tests._webhook import Receiver
from tests.jobs.conftest import slow_expected
from tests.jobs.test_lifecycle import job_of_another_process
from wf_widgets.delivery import HANDLERS
from wf_widgets.errors import DiskFull, JobDestination, JobInvalid, JobTransient, ValidationError
from wf_widgets.jobs.runner import retryable
from wf_widgets.server.testing import wait_for


@pytest.fixture
def quick(make_backend):
    """A backend retrying after 10 ms (then 20, 40, ...), webhooks allowed to 127.0.0.1."""
    return make_backend(retry_backoff_s=0.01, webhook_allow="127.0.0.1", webhook_backoff_s=0.05,
                        public_url="http://127.0.0.1:8999/wf")


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def worker_env(backend) -> dict:
    """The environment of a worker process on ``backend``'s home, as its user, webhooks to 127.0.0.1 allowed."""
    return dict(os.environ, WF_WIDGETS_HOME=str(backend.settings.home), WF_WIDGETS_USER=backend.settings.user,
                WF_WIDGETS_WEBHOOK_ALLOW="127.0.0.1", WF_WIDGETS_PUBLIC_URL=backend.settings.public_url)


def flaky_delivery(monkeypatch, counter: Path, failures: int, exc: type[Exception] | Exception = JobTransient):
    """Make the download handler fail its first ``failures`` deliveries (counted in the file ``counter``)."""
    handler = HANDLERS["download"]
    deliver = type(handler).deliver

    def flaky(self, backend, row, value):
        n = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(n + 1))
        if n < failures:
            raise exc("the disk was busy") if isinstance(exc, type) else exc
        return deliver(self, backend, row, value)

    monkeypatch.setattr(type(handler), "deliver", flaky)


@pytest.mark.parametrize("block", [True, False])
def test_a_job_failing_transiently_twice_then_succeeds_on_its_third_attempt(quick, monkeypatch, tmp_path, block):
    flaky_delivery(monkeypatch, tmp_path / "count", failures=2)
    if block:
        assert (wf.Int(1) + 1).compute(retries=2) == 2
        job = wf.Job(quick.jobs.list(limit=1)[0]["id"])
    else:
        job = (wf.Int(1) + 1).compute(retries=2, block=False)
        assert job.result(timeout=30) == 2
    assert (tmp_path / "count").read_text() == "3"
    assert (job.stage, job.attempts, job.attempt_codes, job.retries) == ("SUCCEEDED", 3, ["TRANSIENT", "TRANSIENT",
                                                                                          "NONE"], 2)
    assert len(quick.jobs.list()) == 1  # attempts of one job, not new jobs


def test_a_job_out_of_retries_fails_with_its_last_code_and_notifies_once(quick, monkeypatch, tmp_path):
    receiver = Receiver().start()
    try:
        flaky_delivery(monkeypatch, tmp_path / "count", failures=5, exc=DiskFull.in_folder("/results"))
        job = wf.Int(4).compute(retries=2, block=False, notify={"webhook": receiver.url})
        with pytest.raises(JobTransient, match="No space left on the disk of /results"):
            job.wait(30)
        assert (job.attempts, job.attempt_codes) == (3, ["TRANSIENT"] * 3)
        wait_for(lambda: job.refresh()._row["notify_state"] == "SENT", timeout=30, what="the webhook")
        [request] = receiver.requests  # after the last attempt only
        assert (request["event"]["stage"], request["event"]["attempts"], request["event"]["attempt_codes"]) == (
            "FAILED", 3, ["TRANSIENT"] * 3)
    finally:
        receiver.stop()


def test_failures_that_are_not_transient_are_not_retried(quick, monkeypatch, tmp_path):
    flaky_delivery(monkeypatch, tmp_path / "count", failures=1, exc=JobInvalid("bad values"))
    job = wf.Int(4).compute(retries=3, block=False)
    with pytest.raises(JobInvalid, match="bad values"):
        job.wait(30)
    assert (job.attempts, job.attempt_codes, (tmp_path / "count").read_text()) == (1, ["INVALID"], "1")


def test_a_destination_failure_is_retried_only_when_a_network_error_caused_it():
    def caused(cause):
        try:
            raise JobDestination("Could not send the email") from cause
        except JobDestination as exc:
            return exc

    assert retryable(caused(ConnectionRefusedError(111, "refused")), "DESTINATION")
    assert retryable(caused(TimeoutError("timed out")), "DESTINATION")
    assert retryable(caused(smtplib.SMTPResponseException(451, b"try again later")), "DESTINATION")
    assert not retryable(caused(smtplib.SMTPResponseException(550, b"no such mailbox")), "DESTINATION")
    assert not retryable(JobDestination("the data-loss guard refused the values"), "DESTINATION")
    assert retryable(JobTransient("x"), "TRANSIENT") and retryable(RuntimeError("lost"), "INTERRUPT")
    assert not retryable(ValueError("x"), "INVALID") and not retryable(MemoryError(), "OOM")


def test_an_email_refused_for_now_is_retried(quick, monkeypatch, tmp_path):
    flaky_delivery(monkeypatch, tmp_path / "count", failures=1,
                   exc=_network_destination_error())
    assert wf.Int(9).compute(retries=1, block=False).result(timeout=30) == 9


def _network_destination_error() -> JobDestination:
    try:
        raise JobDestination("Could not send the email: connection refused") from ConnectionRefusedError(111, "x")
    except JobDestination as exc:
        return exc


@pytest.mark.parametrize("retries", [-1, 11, "2", 1.5, True])
def test_bad_retries_are_refused_before_a_job_exists(backend, retries):
    with pytest.raises(ValidationError, match=r"retries must be a whole number from 0 to 10, got "):
        wf.Int(1).compute(retries=retries)
    assert backend.jobs.list() == []


def test_cancelling_a_job_waiting_for_its_next_attempt_ends_it(make_backend, monkeypatch, tmp_path):
    make_backend(retry_backoff_s=30.0)
    flaky_delivery(monkeypatch, tmp_path / "count", failures=5)
    job = wf.Int(1).compute(retries=3, block=False)
    wait_for(lambda: job.refresh()._row.get("retry_at") is not None, timeout=30, what="the wait for attempt 2")
    assert job.stage == "QUEUED" and job.attempts == 2
    assert job.cancel()
    with pytest.raises(wf.errors.JobCancelled):
        job.wait(5)  # at once, not after the 30 s wait
    assert job.attempt_codes == ["TRANSIENT", "CANCELLED"]
    assert (tmp_path / "count").read_text() == "1"  # no attempt after the cancellation


def test_a_killed_workers_attempt_reads_interrupt_and_the_job_runs_again(quick, receiver):
    """A process running a job with retries dies; a waiter in another process reaps it (INTERRUPT), and runs
    its next attempt when due, to success; the webhook fires once, after it."""
    code = textwrap.dedent("""
        import sys
        sys.path.insert(0, sys.argv[1])
        from conftest import slow_value
        from wf_widgets.jobs import runner
        job = slow_value(150).compute(block=False, retries=1, notify={"webhook": sys.argv[2]})
        import time
        while job.id not in runner._heartbeat.running:
            time.sleep(0.01)
        print(job.id, flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code, os.path.dirname(__file__), receiver.url],
                            env=worker_env(quick), stdout=subprocess.PIPE, text=True)
    try:
        job_id = proc.stdout.readline().strip()
        proc.kill()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    job = wf.Job.get(job_id)  # reaps it: its worker is gone; attempt 2 is queued
    assert job.attempt_codes == ["INTERRUPT"] and job.attempts == 2
    assert job.result(timeout=120) == slow_expected(150)  # run here when due
    assert (job.stage, job.attempts, job.attempt_codes) == ("SUCCEEDED", 2, ["INTERRUPT", "NONE"])
    wait_for(lambda: receiver.requests, timeout=30, what="the webhook")
    [request] = receiver.requests
    assert (request["event"]["stage"], request["event"]["attempt_codes"]) == ("SUCCEEDED", ["INTERRUPT", "NONE"])


def test_a_killed_workers_job_without_retries_fails_and_notifies_once(quick, receiver):
    code = textwrap.dedent("""
        import sys
        sys.path.insert(0, sys.argv[1])
        from conftest import slow_value
        from wf_widgets.jobs import runner
        job = slow_value(2000).compute(block=False, notify={"webhook": sys.argv[2]})
        import time
        while job.id not in runner._heartbeat.running:
            time.sleep(0.01)
        print(job.id, flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code, os.path.dirname(__file__), receiver.url],
                            env=worker_env(quick), stdout=subprocess.PIPE, text=True)
    try:
        job = job_of_another_process(proc.stdout.readline().strip())  # its worker lives: nothing reaped
        proc.kill()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    with pytest.raises(wf.errors.JobInterrupt):
        job.wait(30)  # the waiter reaps it, and tells the webhook
    wait_for(lambda: receiver.requests, timeout=30, what="the webhook")
    assert quick.sweep_due()["notified"] == 0
    [request] = receiver.requests
    assert (request["event"]["stage"], request["event"]["error_code"]) == ("FAILED", "INTERRUPT")


def test_a_reaped_job_without_retries_fails_interrupt(backend):
    store = backend.jobs
    row = store.create("f" * 48, kind="Int", graph=wf.Int(1).to_json(), geoctx=None, format={"type": "json"},
                       destination={"type": "download"}, retries=0)
    store.db.write("UPDATE jobs SET stage = 'RUNNING', pid = 999999999, heartbeat = ? WHERE id = ?",
                   (backend.settings.time(), row["id"]))
    assert store.reap_stale() == 1
    assert (store.status(row["id"])["stage"], store.status(row["id"])["attempt_codes"]) == ("FAILED", ["INTERRUPT"])


def test_sweeps_run_due_retries_left_by_a_process_that_is_gone(quick):
    """A job queued for its next attempt by a process that died before running it: any sweep runs it."""
    store = quick.jobs
    row = store.create("e" * 48, kind="Int", graph=(wf.Int(20) + 1).to_json(), geoctx=None,
                       format={"type": "json"}, destination={"type": "download"}, retries=1)
    assert store.requeue(row["id"], "TRANSIENT", "busy", quick.settings.time() + 3600, attempts=1)
    assert store.reap_stale() == 0  # waiting for its attempt: nobody's, never reaped
    assert quick.sweep_due()["retried"] == 0  # not due yet
    store.db.write("UPDATE jobs SET retry_at = ? WHERE id = ?", (quick.settings.time() - 1, row["id"]))
    assert quick.sweep_due()["retried"] == 1
    job = wf.Job.get(row["id"])
    assert job.result(timeout=30) == b"21"
    assert (job.attempts, job.attempt_codes) == (2, ["TRANSIENT", "NONE"])


def test_closing_the_backend_cancels_a_job_waiting_for_its_next_attempt(make_backend, monkeypatch, tmp_path):
    backend = make_backend(retry_backoff_s=600.0)
    flaky_delivery(monkeypatch, tmp_path / "count", failures=5)
    job = wf.Int(1).compute(retries=1, block=False)
    wait_for(lambda: job.refresh()._row.get("retry_at") is not None, timeout=30, what="the wait for attempt 2")
    started = time.monotonic()
    backend.close()  # does not wait the 10 minutes
    assert time.monotonic() - started < 30
    reopened = make_backend(home=backend.settings.home)
    assert reopened.jobs.status(job.id)["stage"] == "CANCELLED"
