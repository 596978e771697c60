"""The job store: who is dead (pid, pid reuse, heartbeat), blob references, the schema."""

import os
import shutil
import subprocess

import pytest

import wf_widgets as wf
from wf_widgets.jobs.store import HOST, STALE_AFTER_S, process_start_time

pytestmark = pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/stat"),
                                reason="process start times come from /proc (Linux)")


def running_row(store, job_id, **cols):
    store.create(job_id, kind="Int", graph=wf.Int(1).to_json(), geoctx=None, format={"type": "json"},
                 destination={"type": "download"})
    cols = {"stage": "RUNNING", "host": HOST, "pid": os.getpid(), "pid_start": process_start_time(os.getpid()),
            "heartbeat": store.settings.time(), **cols}
    store._conn().execute(f"UPDATE jobs SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
                          (*cols.values(), job_id))


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
