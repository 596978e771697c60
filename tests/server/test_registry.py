"""server.registry with a database URL: servers are rows of the database (never files of a home), seen from any home."""

from __future__ import annotations

import pytest

import wf_widgets as wf
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.jobs.store import HOST
from wf_widgets.server import links as server_links
from wf_widgets.server import registry
from wf_widgets.server.testing import wait_for
from wf_widgets.server.thread import ThreadServer


@pytest.fixture(params=["sqlite-url", "postgresql"])
def url(request, tmp_path):
    """A database URL: one SQLite file, or a schema of the session's PostgreSQL."""
    if request.param == "sqlite-url":
        return f"sqlite:///{tmp_path / 'db' / 'all.sqlite'}"
    return request.getfixturevalue("postgres").new_schema_url()


def test_a_server_registered_in_the_database_gives_links_to_processes_of_other_homes(tmp_path, url, monkeypatch):
    monkeypatch.setattr(registry, "HEARTBEAT_S", 0.05)
    here = Backend(Settings(home=tmp_path / "here", user="user:alice", database_url=url), sweep=False)
    elsewhere = Backend(Settings(home=tmp_path / "elsewhere", user="user:alice", database_url=url), sweep=False)
    server = ThreadServer(here, register=False, kind="standalone")
    handle = registry.register(here.settings, server.url, "standalone")
    try:
        assert isinstance(handle, registry.Registration)
        assert not (here.settings.home / "servers").exists()
        [info] = registry.live_servers(elsewhere.settings)
        assert (info["url"], info["kind"], info["host"]) == (server.url, "standalone", HOST)
        assert server_links.resolve(elsewhere) == (server.url, "standalone")
        assert server_links.link_note(elsewhere) is None
        job = (wf.Int(1) + 1).compute(format="json", block=False, backend=elsewhere).wait(30)
        assert job.url.startswith(f"{server.url}/results/{job.id}?expires=")
        db = registry._database(here.settings)
        try:
            beat = lambda: db.read("SELECT heartbeat FROM servers").fetchone()[0]  # noqa: E731
            first = beat()
            wait_for(lambda: beat() > first, timeout=10, what="a heartbeat")
        finally:
            db.close()
    finally:
        registry.unregister(handle)
        server.stop()
        here.close()
    assert registry.live_servers(elsewhere.settings) == []
    elsewhere.close()


def test_stale_rows_dead_pids_and_other_hosts_loopback_urls_are_not_live(tmp_path, url):
    settings = Settings(home=tmp_path / "home", database_url=url)
    now = settings.time()
    db = registry._database(settings)
    rows = [("fresh-remote", "https://wf.example.org/wf", "standalone", "other-host", 1, now - 5, now - 5),
            ("remote-loopback", "http://127.0.0.1:8765", "standalone", "other-host", 1, now - 4, now - 4),
            ("stale-remote", "https://old.example.org", "jupyter", "other-host", 1, now - 900, now - registry.STALE_AFTER_S - 1),
            ("dead-here", "http://127.0.0.1:1", "standalone", HOST, 2 ** 22 + 1, now - 3, now - 3),
            ("jupyter-remote", "https://hub.example.org/user/a/wf-widgets", "jupyter", "other-host", 7, now - 10, now)]
    try:
        for row in rows:
            db.write("INSERT INTO servers (id, url, kind, host, pid, started, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?)", row)
    finally:
        db.close()
    live = registry.live_servers(settings)
    assert [i["url"] for i in live] == ["https://wf.example.org/wf", "https://hub.example.org/user/a/wf-widgets"]
    assert [i["url"] for i in registry.live_servers(settings, kind="jupyter")] == ["https://hub.example.org/user/a/wf-widgets"]
    backend = Backend(settings, sweep=False)
    try:
        assert server_links.resolve(backend) == ("https://hub.example.org/user/a/wf-widgets", "jupyter")
        assert server_links.lasting_base(backend) == "https://hub.example.org/user/a/wf-widgets"
    finally:
        backend.close()
