"""The wf-widgets command, run as a newcomer would."""

import os
import subprocess
import sys

import pytest

import wf_widgets as wf
from wf_widgets import cli
from wf_widgets.backend import Backend, set_backend
from wf_widgets.config import Settings
from wf_widgets.jobs.store import JobStore

from .test_sqlite import corrupt

DAY = 86400.0


def wf_widgets(*args, home, timeout=300, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
    environ.update(WF_WIDGETS_HOME=str(home), **env)
    return subprocess.run([sys.executable, "-m", "wf_widgets.cli", *args], env=environ, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.timeout(300)
def test_demo_runs_every_destination_and_leaves_nothing_running(tmp_path):
    out = wf_widgets("demo", home=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout
    for expected in ("=== Download ===", "b'2'", "Subject: Workflows: My Computation is Done",
                     "Image: my_image\n  id: demo:composites:my_image\n  product: demo:composites\n  created: ",
                     "9 jobs SUCCEEDED", "fetched it: HTTP 200, 1 bytes, application/json: b'2'",
                     "wf-widgets serve", "Demo finished"):
        assert expected in text, expected
    assert "[######] | Steps: 23/23 | Stage: SUCCEEDED" in text
    assert not list((tmp_path / "servers").glob("*.json"))  # the demo's server stopped with it
    listing = wf_widgets("catalog", home=tmp_path)
    assert "sentinel-1:GRD" in listing.stdout and "demo:composites" in listing.stdout
    assert "    my_image  acquired" in listing.stdout


def test_demo_fails_clearly(tmp_path):
    (tmp_path / "config.toml").write_text("retention_days = -1\n")
    out = wf_widgets("demo", home=tmp_path)
    assert out.returncode == 1
    assert "retention_days must be a positive number" in out.stderr


def test_jobs_cancel_needs_an_id(tmp_path):
    out = wf_widgets("jobs", "cancel", home=tmp_path)
    assert out.returncode == 2 and "jobs cancel needs a job id" in out.stderr


def test_sweep_reports_counts(tmp_path):
    out = wf_widgets("sweep", home=tmp_path)
    assert out.returncode == 0 and "deleted 0 expired result(s)" in out.stdout


def broken_home(tmp_path):
    """A home whose job store has garbage over its first pages."""
    home = tmp_path / "home"
    backend = Backend(Settings(home=home))
    backend.jobs  # opens (makes) the store
    backend.close()
    corrupt(home / "jobs.sqlite")
    return home


def test_a_corrupted_job_store_is_one_clear_error(tmp_path):
    home = broken_home(tmp_path)
    out = wf_widgets("jobs", home=home)
    assert out.returncode == 1
    assert out.stderr.startswith(f"wf-widgets jobs: The store {home / 'jobs.sqlite'} is corrupted (file is not a "
                                 "database). Run `wf-widgets doctor --repair`")
    assert "Traceback" not in out.stderr


def test_doctor_reports_and_repairs(tmp_path):
    home = broken_home(tmp_path)
    out = wf_widgets("doctor", home=home)
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"PROBLEM  jobs store     {home / 'jobs.sqlite'} is corrupted: file is not a database" in out.stdout
    out = wf_widgets("doctor", "--repair", home=home)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "repaired: moved aside to jobs.sqlite.broken-" in out.stdout
    out = wf_widgets("jobs", home=home)
    assert out.returncode == 0 and f"no jobs in {home}" in out.stdout
    assert wf_widgets("doctor", home=home).returncode == 0


def test_sweep_command(backend, monkeypatch, capsys):
    job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    monkeypatch.setenv("WF_WIDGETS_HOME", str(backend.settings.home))
    monkeypatch.setenv("WF_WIDGETS_NOW_OFFSET_S", str(11 * DAY))
    assert cli.main(["sweep"]) == 0
    assert "deleted 1 expired result(s)" in capsys.readouterr().out
    assert backend.jobs.get(job.id)["result_deleted"] == 1


def test_reading_commands_make_nothing_in_a_new_home(tmp_path):
    home = tmp_path / "home"
    out = wf_widgets("jobs", home=home)
    assert out.returncode == 0 and out.stdout == f"no jobs in {home}\n"
    out = wf_widgets("jobs", "show", "a" * 48, home=home)
    assert out.returncode == 1 and f"wf-widgets jobs: No job with id '{'a' * 48}' in {home}" in out.stderr
    out = wf_widgets("catalog", home=home)
    assert out.returncode == 0 and out.stdout.startswith(f"Catalog {home / 'catalog'} (as user:")
    assert out.stdout.endswith(": 0 product(s)\n")
    out = wf_widgets("doctor", home=home)
    assert out.returncode == 0 and "does not exist yet" in out.stdout
    assert not home.exists()


def test_reading_commands_never_sweep(tmp_path):
    home = tmp_path / "home"
    backend = Backend(Settings(home=home), sweep=False)
    previous = set_backend(backend)
    try:
        job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    finally:
        set_backend(previous)
        backend.close()
    result = home / "results" / job._row["result_path"]
    orphan = home / "results" / ("c" * 48 + ".json")
    orphan.write_bytes(b"x")
    later = {"WF_WIDGETS_NOW_OFFSET_S": str(11 * DAY)}  # the result has expired: a sweep would delete it
    assert job.id in wf_widgets("jobs", home=home, **later).stdout
    out = wf_widgets("jobs", "show", job.id, home=home, **later)
    assert out.returncode == 0 and f"Job ID: {job.id}" in out.stdout
    # No server runs: one started by the command would stop with it (and sweep on its way up).
    assert "link: none while no server runs (start one with `wf-widgets serve`" in out.stdout
    assert wf_widgets("catalog", home=home, **later).returncode == 0
    out = wf_widgets("doctor", home=home, **later)
    assert out.returncode == 1 and "1 result file(s) no job row owns" in out.stdout
    assert orphan.exists() and result.exists()
    store = JobStore(Settings(home=home))
    try:
        assert store.get(job.id)["result_deleted"] == 0 and store.last_sweep() is None
    finally:
        store.close()
