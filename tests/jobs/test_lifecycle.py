"""Cancel, timeout, Ctrl-C, other processes, dead workers, progress text, expiry."""

import io
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import wf_widgets as wf
from wf_widgets.errors import JobCancelled, JobInterrupt, JobTimeoutError, ResultExpired
from wf_widgets.jobs.progress import progress_line

from .conftest import slow_expected, slow_value


def wait_until(predicate, timeout=30.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def run_py(code, home, user="user:alice", **kw):
    env = dict(os.environ, WF_WIDGETS_HOME=str(home), WF_WIDGETS_USER=user)  # the backend fixture's user
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=120, **kw)


def test_progress_text_is_the_originals(backend):
    out = io.StringIO()
    assert (wf.Int(1) + 1).compute(progress_bar=out) == 2
    text = out.getvalue()
    first, rest = text.split("\n", 1)
    assert re.fullmatch(r"Job ID: [0-9a-f]{48}", first)
    final = rest.rstrip("\n").split("\r")[-1].rstrip()
    assert re.fullmatch(r"\[######\] \| Steps: (\d+)/\1 \| Stage: SUCCEEDED", final)


def test_progress_line_format():
    assert progress_line(21, 21, "SUCCEEDED") == "[######] | Steps: 21/21 | Stage: SUCCEEDED"
    assert progress_line(1, 2, "RUNNING") == "[###   ] | Steps: 1/2 | Stage: RUNNING"
    assert progress_line(0, 0, "QUEUED") == "[      ] | Steps: 0/0 | Stage: QUEUED"


def test_progress_to_an_output_widget_like_object(backend):
    class Output:
        def __init__(self):
            self.parts = []

        def append_stdout(self, text):
            self.parts.append(text)

    out = Output()
    (wf.Int(1) + 1).compute(progress_bar=out)
    assert out.parts[0].startswith("Job ID: ")
    assert "Stage: SUCCEEDED" in out.parts[-2]


def test_progress_is_off_outside_a_notebook_by_default(backend, capsys):
    (wf.Int(1) + 1).compute()
    assert capsys.readouterr().out == ""


def test_cancel_a_running_job(backend):
    job = slow_value().compute(block=False)
    wait_until(lambda: job.refresh().stage == "RUNNING")
    assert job.cancel() is True
    with pytest.raises(JobCancelled, match="was cancelled"):
        job.wait(timeout=30)
    assert job.stage == "CANCELLED"
    with pytest.raises(JobCancelled, match="was cancelled"):
        job.result()
    assert job.cancel() is False


def test_cancel_from_another_process(backend):
    job = slow_value().compute(block=False)
    wait_until(lambda: job.refresh().stage == "RUNNING")
    proc = subprocess.run([sys.executable, "-m", "wf_widgets.cli", "jobs", "cancel", job.id],
                          env=dict(os.environ, WF_WIDGETS_HOME=str(backend.settings.home),
                                   WF_WIDGETS_USER=backend.settings.user),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "cancel requested" in proc.stdout
    with pytest.raises(JobCancelled):
        job.wait(timeout=30)
    assert job.stage == "CANCELLED"


def test_timeout_cancels_and_raises(backend):
    with pytest.raises(JobTimeoutError, match="did not finish within 0.2 s and was cancelled"):
        slow_value().compute(timeout=0.2)
    rows = backend.jobs.list(limit=1)
    wait_until(lambda: backend.jobs.status(rows[0]["id"])["stage"] == "CANCELLED")


def test_keyboard_interrupt_during_wait_cancels(backend):
    job = slow_value().compute(block=False)
    wait_until(lambda: job.refresh().stage == "RUNNING")
    timer = threading.Timer(0.1, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        job.wait(timeout=60)
    with pytest.raises(JobCancelled):
        job.wait(timeout=30)
    assert job.stage == "CANCELLED"


def test_job_get_from_another_process(backend):
    job = (wf.Int(40) + 2).compute(block=False)
    job.wait()
    proc = run_py(f"""
        import wf_widgets as wf
        job = wf.Job.get({job.id!r})
        print(job.stage, job.result(), job.steps_done, job.steps_total)
    """, backend.settings.home)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["SUCCEEDED", "42", str(job.steps_done), str(job.steps_total)]


def start_slow_job_in_a_process(home):
    """A process that runs a slow job in its own thread pool; returns it (its stdout's first line is the job id)."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys, time
            sys.path.insert(0, sys.argv[1])
            from conftest import slow_value
            job = slow_value(2000).compute(block=False)
            print(job.id, flush=True)
            job.wait()
        """), os.path.dirname(__file__)],
        env=dict(os.environ, WF_WIDGETS_HOME=str(home), WF_WIDGETS_USER="user:alice"), stdout=subprocess.PIPE, text=True)


def job_of_another_process(job_id, backend=None):
    """The Job of a job another process launched, once its row is written (a process holds the rows of
    jobs it runs up to wf_widgets.jobs.held.HOLD_UNENDED_S)."""
    store = (backend or wf.get_backend()).jobs
    wait_until(lambda: store.status(job_id) is not None)
    return wf.Job.get(job_id, backend)


def test_a_killed_worker_process_ends_interrupt(backend):
    proc = start_slow_job_in_a_process(backend.settings.home)
    try:
        job_id = proc.stdout.readline().strip()
        job = job_of_another_process(job_id)
        wait_until(lambda: job.refresh().stage == "RUNNING" and job.steps_done > 0)
        assert backend.jobs.reap_stale() == 0  # alive: never reaped
        proc.kill()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    # Whoever opens the store next reaps it.
    fresh = wf.Backend(wf.Settings(home=backend.settings.home, user=backend.settings.user))
    try:
        job = wf.Job.get(job_id, fresh)
        assert job.stage == "FAILED"
        assert job._row["error_code"] == "INTERRUPT"
        with pytest.raises(JobInterrupt, match="worker process stopped"):
            job.result()
    finally:
        fresh.close()


def test_waiting_on_a_job_whose_worker_process_dies_ends_interrupt(backend):
    proc = start_slow_job_in_a_process(backend.settings.home)
    try:
        job = job_of_another_process(proc.stdout.readline().strip())
        wait_until(lambda: job.refresh().stage == "RUNNING" and job.steps_done > 0)
        proc.kill()  # nobody sweeps: the waiter itself must notice
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    start = time.monotonic()
    with pytest.raises(JobInterrupt, match="worker process stopped"):
        job.result(timeout=30)
    assert time.monotonic() - start < 5


def test_running_job_in_this_process_is_never_reaped(backend):
    job = slow_value(50).compute(block=False)
    wait_until(lambda: job.refresh().stage == "RUNNING")
    assert backend.jobs.reap_stale() == 0
    assert job.result(timeout=60) == slow_expected(50)


def test_stale_heartbeat_of_a_remote_worker_is_reaped(backend):
    store = backend.jobs
    for job_id, beat in (("a" * 48, backend.settings.time() - 3600), ("b" * 48, backend.settings.time())):
        store.create(job_id, kind="Int", graph=wf.Int(1).to_json(), geoctx=None, format={"type": "json"},
                     destination={"type": "download"})
        store._conn().execute("UPDATE jobs SET stage='RUNNING', host='elsewhere', pid=1, heartbeat=? WHERE id=?",
                              (beat, job_id))
    assert store.reap_stale() == 1
    assert store.status("a" * 48)["error_code"] == "INTERRUPT"
    assert store.status("b" * 48)["stage"] == "RUNNING"


def test_result_expires_after_retention(backend):
    job = (wf.Int(1) + 1).compute(block=False, format="json")
    job.wait()
    expected = job._row["finished"] + 10 * 86400
    assert abs(job.expires_datetime.timestamp() - expected) < 1
    path = backend.results.resolve(job._row["result_path"])
    assert path.exists()
    backend.settings.now_offset_s = 10 * 86400 + 60
    with pytest.raises(ResultExpired, match="expired"):
        job.result()
    assert backend.sweep()["expired"] == 1
    assert not path.exists()
    assert job.refresh()._row["result_deleted"] == 1


def test_result_expiry_uses_retention_days(make_backend):
    make_backend(retention_days=2)
    job = (wf.Int(1) + 1).compute(block=False)
    job.wait()
    assert abs(job.expires_datetime.timestamp() - (job._row["finished"] + 2 * 86400)) < 1


def test_jobs_cli_lists_and_shows(backend):
    job = (wf.Int(1) + 1).compute(block=False)
    job.wait()
    env = dict(os.environ, WF_WIDGETS_HOME=str(backend.settings.home), WF_WIDGETS_USER=backend.settings.user)
    out = subprocess.run([sys.executable, "-m", "wf_widgets.cli", "jobs"], env=env, capture_output=True, text=True)
    assert job.id in out.stdout and "SUCCEEDED" in out.stdout
    out = subprocess.run([sys.executable, "-m", "wf_widgets.cli", "jobs", "show", job.id], env=env,
                         capture_output=True, text=True)
    assert out.stdout.startswith(f"Job {job.short_id}   SUCCEEDED") and f"  id           {job.id}\n" in out.stdout
    out = subprocess.run([sys.executable, "-m", "wf_widgets.cli", "jobs", "show", job.short_id, "--json"], env=env,
                         capture_output=True, text=True)
    assert '"stage": "SUCCEEDED"' in out.stdout and f'"id": "{job.id}"' in out.stdout


def test_sweep_removes_orphaned_result_files(backend):
    job = (wf.Int(1) + 1).compute(block=False, format="json")
    job.wait()
    kept = backend.results.resolve(job._row["result_path"])
    orphan = backend.results.root / ("c" * 48 + ".json")  # a worker killed while writing, no row
    orphan.write_bytes(b"partial")
    backend.sweep()
    assert kept.exists() and not orphan.exists()


def test_keyboard_interrupt_during_a_blocking_compute_cancels(backend):
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        slow_value().compute(timeout=60)
    row = backend.jobs.list(limit=1)[0]
    assert row["stage"] == "CANCELLED" and row["error_message"] == "Interrupted"


def test_blocking_compute_with_an_executor_of_ones_own_waits_for_it(make_backend):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        b = make_backend(executor=pool)
        assert not b.runner.runs_here
        out = io.StringIO()
        assert (wf.Int(2) * 21).compute(progress_bar=out) == 42
        assert "Stage: SUCCEEDED" in out.getvalue()
