"""Retention: expiry after completion, 410 by the clock, the sweeper at start, hourly and by command."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest

import wf_widgets as wf
from wf_widgets import cli
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.errors import ResultExpired, ValidationError
from wf_widgets.server import sweeper
from wf_widgets.server.sweeper import start_sweeper
from wf_widgets.server.testing import fetch, wait_for

DAY = 86400.0


def _job():
    job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    assert job.stage == "SUCCEEDED"
    return job


def _file(backend, job):
    return backend.results.root / job._row["result_path"]


def test_expiry_is_retention_days_after_completion_and_the_link_agrees(make_backend):
    make_backend(retention_days=2)
    job = _job()
    assert job.expires_datetime.timestamp() == pytest.approx(job._row["finished"] + 2 * DAY, abs=1e-3)
    expires = int(parse_qs(urlsplit(job.url).query)["expires"][0])
    assert expires == int(job.expires_datetime.timestamp())


def test_retention_days_from_the_environment(tmp_path):
    s = Settings.from_env({"WF_WIDGETS_HOME": str(tmp_path), "WF_WIDGETS_RETENTION_DAYS": "3.5"})
    assert s.retention_days == 3.5
    assert Settings.from_env({"WF_WIDGETS_HOME": str(tmp_path)}).retention_days == 10


def test_expired_link_is_410_then_the_sweep_deletes_the_file(make_backend):
    backend = make_backend()
    job = _job()
    url, path = job.url, _file(backend, job)
    assert fetch(url).status == 200

    backend.settings.now_offset_s = 10 * DAY - 60  # not yet
    assert fetch(url).status == 200 and backend.sweep()["expired"] == 0

    backend.settings.now_offset_s = 10 * DAY + 1
    r = fetch(url)
    assert r.status == 410 and "expired" in r.text
    assert path.exists()  # refused by the clock alone, before any sweep

    assert backend.sweep() == {"reaped": 0, "expired": 1, "damaged": 0, "leftovers": 0, "retried": 0, "notified": 0}
    assert not path.exists()
    assert backend.jobs.get(job.id)["result_deleted"] == 1
    assert fetch(url).status == 410
    with pytest.raises(ResultExpired, match="expired"):
        job.result_to_file(backend.settings.home / "out.json")


def test_the_first_launch_sweeps_once_and_building_a_backend_does_not(make_backend):
    backend = make_backend()
    job = _job()
    path = _file(backend, job)
    later = Backend(Settings(home=backend.settings.home, now_offset_s=11 * DAY))  # sweep=True by default
    try:
        assert path.exists()  # building a Backend does no I/O
        (wf.Int(1) + 1).compute(backend=later)  # the first launch sweeps
        assert not path.exists()
        assert later.jobs.get(job.id)["result_deleted"] == 1
        path.write_bytes(b"x")  # an orphan now: the next launches do not sweep again
        (wf.Int(1) + 1).compute(backend=later)
        assert path.exists()
    finally:
        later.close()


def test_periodic_sweeper_on_a_loop(make_backend):
    backend = make_backend()
    job = _job()
    path = _file(backend, job)
    backend.settings.now_offset_s = 11 * DAY

    async def main():
        callback = start_sweeper(backend, interval_s=0.02)
        try:
            for _ in range(500):  # poll with a deadline (10 s)
                if not path.exists():
                    return True
                await asyncio.sleep(0.02)
            return False
        finally:
            callback.stop()

    assert asyncio.run(main())
    assert backend.jobs.get(job.id)["result_deleted"] == 1


def test_running_thread_server_sweeps_hourly(make_backend, monkeypatch):
    monkeypatch.setattr(sweeper, "SWEEP_EVERY_S", 0.02)  # "hourly", quickly
    backend = make_backend()
    job = _job()
    job.url  # starts the kernel-thread server, which starts its sweeper
    path = _file(backend, job)
    backend.settings.now_offset_s = 11 * DAY
    wait_for(lambda: not path.exists(), timeout=10, what="the server's sweeper")
    wait_for(lambda: backend.jobs.get(job.id)["result_deleted"] == 1, timeout=10, what="the row marked")


def test_live_results_survive_the_sweep(make_backend):
    backend = make_backend()
    old = _job()
    backend.settings.now_offset_s = 5 * DAY
    new = _job()
    backend.settings.now_offset_s = 11 * DAY
    assert backend.sweep()["expired"] == 1
    assert not _file(backend, old).exists() and _file(backend, new).exists()
    assert fetch(new.url).status == 200


# -- the sweep at launch: at most once per interval per home ----------------------------------
HOUR = 3600.0


def _orphan(backend, name="c"):
    """A result file no row owns: what the sweep deletes, so its survival shows no sweep ran."""
    path = backend.results.root / (name * 48 + ".json")
    path.write_bytes(b"x")
    return path


def _launch(home, **settings):
    later = Backend(Settings(home=home, **settings))  # sweep=True: its first launch sweeps if due
    try:
        assert (wf.Int(1) + 1).compute(backend=later) == 2
    finally:
        later.close()


def test_a_launch_within_the_interval_of_another_sweep_does_not_sweep_and_one_after_it_does(make_backend):
    backend = make_backend()
    home = backend.settings.home
    _job()
    first = _orphan(backend, "c")
    _launch(home)  # the home was never swept: this launch sweeps, and records when
    assert not first.exists()
    swept_at = backend.jobs.last_sweep()
    assert swept_at == pytest.approx(backend.settings.time(), abs=60)

    second = _orphan(backend, "d")
    _launch(home, now_offset_s=HOUR - 60)  # another Backend (as another process), within the interval
    assert second.exists() and backend.jobs.last_sweep() == swept_at
    _launch(home, now_offset_s=HOUR + 60)  # past it
    assert not second.exists()
    assert backend.jobs.last_sweep() == pytest.approx(swept_at + HOUR + 60, abs=60)

    third = _orphan(backend, "e")
    _launch(home, now_offset_s=HOUR + 120, sweep_interval_s=0)  # no interval: every first launch sweeps
    assert not third.exists()


def test_other_processes_skip_the_sweep_within_the_interval(make_backend):
    backend = make_backend()
    home = backend.settings.home
    _job()
    code = "import wf_widgets as wf\nassert (wf.Int(1) + 1).compute() == 2\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}

    def launch(**extra):
        out = subprocess.run([sys.executable, "-c", code], env={**env, "WF_WIDGETS_HOME": str(home), **extra},
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr

    first = _orphan(backend, "c")
    launch()
    assert not first.exists()
    second = _orphan(backend, "d")
    launch()
    launch(WF_WIDGETS_SWEEP_INTERVAL_S="7200", WF_WIDGETS_NOW_OFFSET_S=str(HOUR + 60))
    assert second.exists()
    launch(WF_WIDGETS_NOW_OFFSET_S=str(HOUR + 60))
    assert not second.exists()


def test_the_sweep_command_always_sweeps_and_counts_as_the_last_sweep(make_backend, monkeypatch, capsys):
    backend = make_backend()
    home = backend.settings.home
    _job()
    _launch(home)
    orphan = _orphan(backend)
    monkeypatch.setenv("WF_WIDGETS_HOME", str(home))
    monkeypatch.setenv("WF_WIDGETS_NOW_OFFSET_S", str(HOUR / 2))
    assert cli.main(["sweep"]) == 0  # within the interval of the launch's sweep: sweeps all the same
    assert "deleted 0 expired result(s)" in capsys.readouterr().out
    assert not orphan.exists()
    assert backend.jobs.last_sweep() == pytest.approx(backend.settings.time() + HOUR / 2, abs=60)
    orphan = _orphan(backend)
    _launch(home, now_offset_s=HOUR + 60)  # an hour after the launch's sweep, not after the command's
    assert orphan.exists()


def test_a_failed_sweep_gives_its_turn_back(make_backend):
    backend = make_backend()
    home = backend.settings.home
    _job()
    results = backend.results.root
    results.rename(home / "results-aside")
    results.write_bytes(b"")  # a file where the folder should be: listing it fails
    failing = Backend(Settings(home=home))
    try:
        with pytest.raises(NotADirectoryError):
            failing.ensure_swept()
    finally:
        failing.close()
    assert backend.jobs.last_sweep() is None  # nobody swept: the next launch must
    results.unlink()
    (home / "results-aside").rename(results)
    orphan = _orphan(backend)
    _launch(home)
    assert not orphan.exists() and backend.jobs.last_sweep() is not None


def test_the_sweep_interval_setting(tmp_path):
    s = Settings.from_env({"WF_WIDGETS_HOME": str(tmp_path), "WF_WIDGETS_SWEEP_INTERVAL_S": "60"})
    assert s.sweep_interval_s == 60.0
    assert Settings(home=tmp_path).sweep_interval_s == HOUR
    with pytest.raises(ValidationError, match="sweep_interval_s must be a number of seconds >= 0, got -1.0"):
        Settings(home=tmp_path, sweep_interval_s=-1)
    with pytest.raises(ValidationError, match="WF_WIDGETS_SWEEP_INTERVAL_S must be a number, got 'hourly'"):
        Settings.from_env({"WF_WIDGETS_HOME": str(tmp_path), "WF_WIDGETS_SWEEP_INTERVAL_S": "hourly"})
