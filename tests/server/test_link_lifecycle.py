"""Revoked and renewed download links, against running servers: ``wf-widgets serve`` subprocesses
and a thread server, sharing a home folder or a database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from urllib.parse import urlsplit

import numpy as np
import pytest

import wf_widgets as wf
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.errors import ResultExpired, ValidationError
from wf_widgets.server import registry, stop_thread_server
from wf_widgets.server.testing import fetch, wait_for
from wf_widgets.server.thread import ThreadServer

DAY = 86400.0
REVOKED = b"This link was revoked by the owner of the result"


class Serve:
    """``python -m wf_widgets.server.standalone --port 0`` on ``settings``' home (and database), clock moved."""

    def __init__(self, settings: Settings, offset_s: float = 0.0):
        env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
        env.update(WF_WIDGETS_HOME=str(settings.home), WF_WIDGETS_NOW_OFFSET_S=str(offset_s))
        if settings.database_url:
            env["WF_WIDGETS_DATABASE_URL"] = settings.database_url
        if settings.storage_url:
            env["WF_WIDGETS_STORAGE_URL"] = settings.storage_url
        self.settings = settings
        self.proc = subprocess.Popen([sys.executable, "-m", "wf_widgets.server.standalone", "--port", "0"],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def registered():
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited: {self.proc.communicate()}")
            return next((s for s in registry.live_servers(settings) if s["pid"] == self.proc.pid), None)

        self.url = wait_for(registered, timeout=60, what="the standalone server's registration")["url"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.communicate()


@pytest.fixture
def serve():
    started = []

    def start(settings: Settings, offset_s: float = 0.0) -> Serve:
        s = Serve(settings, offset_s)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def _on(base: str, link: str) -> str:
    """The same link (path and query) on the server at ``base``."""
    parts = urlsplit(link)
    return f"{base.rstrip('/')}{parts.path}?{parts.query}"


def _job() -> wf.Job:
    return (wf.Int(1) + 1).compute(format="json", block=False).wait(60)


def test_a_revoked_link_stops_at_once_in_every_server_and_the_data_stays(backend, serve, app_server):
    job = _job()
    standalone = serve(backend.settings)
    thread = app_server()
    link = job.url
    assert link.startswith(standalone.url)  # a live standalone server gives links their base
    for base in (standalone.url, thread):
        r = fetch(_on(base, link))
        assert r.status == 200 and r.body == b"2"
    job.revoke_link()
    assert job.link_revoked and job.url is None
    for base in (standalone.url, thread):
        r = fetch(_on(base, link))
        assert r.status == 410 and r.body.startswith(REVOKED)
        assert fetch(_on(base, link), method="HEAD").status == 410
    assert job.result() == b"2"  # kept: its owner still reads it here
    assert wf.Job.get(job.id).url is None  # from the row, in any process
    job.revoke_link()  # idempotent


def test_revoking_with_delete_data_deletes_the_stored_result(backend, app_server):
    job = _job()
    base = app_server()
    link = _on(base, job.url)
    path = backend.results.resolve(backend.jobs.get(job.id)["result_path"])
    assert path.exists()
    job.revoke_link(delete_data=True)
    assert not path.exists()
    r = fetch(link)
    assert r.status == 410 and r.body.startswith(REVOKED)
    with pytest.raises(ResultExpired, match="was deleted when its links were revoked"):
        job.result()
    with pytest.raises(ValidationError, match="were revoked; a revoked link can't be renewed"):
        job.renew_link(days=5)


def test_a_renewed_link_works_past_the_old_expiry(backend, serve):
    job = _job()
    old = job.url
    old_expiry = job.expires_datetime
    new = job.renew_link(days=20)
    # A server whose clock is 15 days ahead (it sweeps as it starts: the renewed result is kept).
    later = serve(backend.settings, offset_s=15 * DAY)
    assert new != old and job.expires_datetime.timestamp() == pytest.approx(backend.settings.time() + 20 * DAY, abs=5)
    assert job.expires_datetime > old_expiry
    r = fetch(_on(later.url, new))
    assert r.status == 200 and r.body == b"2"
    r = fetch(_on(later.url, old))
    assert r.status == 410 and b"expired" in r.body  # the old link's own expiry still holds
    assert backend.jobs.get(job.id)["expires"] == pytest.approx(job.expires_datetime.timestamp())


def test_a_shortened_expiry_ends_every_link_at_it(backend, serve):
    job = _job()
    old = job.url
    new = job.renew_link(days=1)
    later = serve(backend.settings, offset_s=2 * DAY)
    for link in (old, new):
        r = fetch(_on(later.url, link))
        assert r.status == 410 and b"expired" in r.body


def test_renewal_is_bounded_by_max_link_days(backend, make_backend):
    job = _job()
    for days in (0, -1, 30.5, 1e9, "5", True, float("nan")):
        with pytest.raises(ValidationError, match=r"days must be a number of days above 0 and at most 30 "
                                                  r"\(WF_WIDGETS_MAX_LINK_DAYS\)") as e:
            job.renew_link(days=days)
        assert e.value.field == "days"
    assert job.renew_link(days=30)
    roomy = make_backend(max_link_days=60)
    wf.set_backend(roomy)
    job = _job()
    job.renew_link(days=45)
    assert job.expires_datetime.timestamp() == pytest.approx(roomy.settings.time() + 45 * DAY, abs=5)


def test_renewal_by_default_is_the_retention_period(backend):
    job = _job()
    backend.settings.now_offset_s = 3 * DAY
    job.renew_link()
    assert job.expires_datetime.timestamp() == pytest.approx(backend.settings.time() + 10 * DAY, abs=5)


def test_an_expired_result_cannot_be_renewed(backend):
    job = _job()
    backend.settings.now_offset_s = 11 * DAY
    with pytest.raises(ResultExpired, match="only a result that still exists can have its link renewed"):
        job.renew_link(days=5)


def test_jobs_without_a_link_say_so(backend, tmp_path):
    backend.settings.storage_roots = str(tmp_path)
    job = (wf.Int(1) + 1).compute(destination={"type": "storage", "url": f"file://{tmp_path}/{{job_id}}.json"},
                                  format="json", block=False).wait(60)
    for action in (job.revoke_link, job.renew_link):
        with pytest.raises(ValidationError, match="has no download link to (revoke|renew): its storage destination "
                                                  "keeps no stored result; only download and email") as e:
            action()
        assert e.value.field == "destination" and e.value.allowed == ("download", "email")


def test_revocation_holds_in_every_server_of_a_database(database, tmp_path, serve):
    """Servers sharing the jobs: the embedded default (one home folder), or PostgreSQL (homes of their own)."""
    settings = Settings(home=tmp_path / "launcher", user="user:alice", database_url=database,
                        storage_url=(tmp_path / "shared-storage").as_uri())
    b = Backend(settings, sweep=False)
    previous = wf.set_backend(b)
    thread = ThreadServer(b, register=False, kind="standalone")
    try:
        other = Settings(home=tmp_path / ("server-home" if database else "launcher"), user="user:server",
                         database_url=database,
                         storage_url=settings.storage_url)
        far = serve(other)
        job = _job()
        link = job.url
        for base in (far.url, thread.url):
            assert fetch(_on(base, link)).body == b"2"
        new = job.renew_link(days=3)
        assert fetch(_on(far.url, new)).body == b"2"
        job.revoke_link()
        for base in (far.url, thread.url):
            for each in (link, new):
                r = fetch(_on(base, each))
                assert r.status == 410 and r.body.startswith(REVOKED)
    finally:
        thread.stop()
        wf.set_backend(previous)
        stop_thread_server(b)
        b.close()


def test_a_request_reads_the_row_without_its_graph_or_blob_files(backend, app_server, monkeypatch):
    # A graph with a big literal keeps it in a blob file; a download needs none of it.
    job = (wf.Array(np.arange(20_000, dtype="float64")).sum()).compute(format="json", block=False).wait(60)
    assert backend.jobs.get(job.id, graph=False)["blobs"]
    link = _on(app_server(), job.url)

    def no_blobs(graph):
        raise AssertionError("a download read the graph's blob files")

    monkeypatch.setattr(backend.jobs, "resolve", no_blobs)
    r = fetch(link)
    assert r.status == 200 and float(r.body) == float(np.arange(20_000).sum())
