"""Retention: expiry after completion, 410 by the clock, the sweeper at start, hourly and by command."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import pytest

import wf_widgets as wf
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.errors import ResultExpired
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

    assert backend.sweep() == {"reaped": 0, "expired": 1, "damaged": 0, "leftovers": 0}
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
