"""Server files in <home>/servers, base-URL resolution, link notes, the signing key."""

from __future__ import annotations

import hmac
import json
import os
import stat
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest

import wf_widgets as wf
from wf_widgets.delivery import links
from wf_widgets.server import links as server_links
from wf_widgets.server import registry, stop_thread_server
from wf_widgets.server.testing import fetch
from wf_widgets.server.thread import running_thread_server


def _write(backend, name, **info):
    folder = registry.servers_dir(backend.settings)
    folder.mkdir(parents=True, exist_ok=True)
    info.setdefault("host", registry.HOST)
    info.setdefault("started", backend.settings.time())
    (folder / name).write_text(json.dumps(info))


@pytest.fixture
def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_register_and_unregister(backend):
    path = registry.register(backend.settings, "http://127.0.0.1:1/", "standalone")
    assert path == backend.settings.home / "servers" / f"{os.getpid()}.json"
    info = json.loads(path.read_text())
    assert info["url"] == "http://127.0.0.1:1" and info["pid"] == os.getpid() and info["kind"] == "standalone"
    assert [s["url"] for s in registry.live_servers(backend.settings)] == ["http://127.0.0.1:1"]
    registry.unregister(path)
    assert not path.exists()
    with pytest.raises(ValueError, match="kind must be one of"):
        registry.register(backend.settings, "http://x", "other")


def test_stale_foreign_and_broken_files_are_ignored(backend, dead_pid):
    _write(backend, f"{dead_pid}.json", url="http://127.0.0.1:2", pid=dead_pid, kind="jupyter")
    _write(backend, "1.json", url="http://127.0.0.1:3", pid=os.getpid(), kind="standalone", host="elsewhere")
    (registry.servers_dir(backend.settings) / "2.json").write_text("{not json")
    _write(backend, "3.json", url="http://127.0.0.1:4", kind="jupyter")  # no pid
    assert registry.live_servers(backend.settings) == []


def test_public_url_comes_first(backend):
    backend.settings.public_url = "https://data.example.org/wf-widgets"
    _write(backend, "a.json", url="http://127.0.0.1:5/wf-widgets", pid=os.getpid(), kind="jupyter")
    assert server_links.base_url(backend) == "https://data.example.org/wf-widgets"
    assert server_links.link_note(backend) is None
    job = (wf.Int(1) + 1).compute(block=False).wait(30)
    assert job.url.startswith(f"https://data.example.org/wf-widgets/results/{job.id}?expires=")
    assert running_thread_server(backend) is None


def test_jupyter_then_standalone_then_thread(backend, dead_pid):
    _write(backend, "a.json", url="http://127.0.0.1:6", pid=os.getppid(), kind="standalone")
    _write(backend, "b.json", url="http://127.0.0.1:7/wf-widgets/", pid=os.getpid(), kind="jupyter",
           started=0)  # older, but jupyter wins over standalone
    assert server_links.resolve(backend) == ("http://127.0.0.1:7/wf-widgets", "jupyter")
    (registry.servers_dir(backend.settings) / "b.json").unlink()
    assert server_links.resolve(backend) == ("http://127.0.0.1:6", "standalone")
    assert server_links.link_note(backend) is None
    (registry.servers_dir(backend.settings) / "a.json").unlink()
    _write(backend, "c.json", url="http://127.0.0.1:8", pid=dead_pid, kind="standalone")  # stale
    assert server_links.link_note(backend) is None  # never starts a server by itself
    url, source = server_links.resolve(backend)
    assert source == "thread" and url.startswith("http://127.0.0.1:")
    assert fetch(url + "/health").status == 200


def test_another_kernels_thread_server_is_not_used(backend):
    _write(backend, "a.json", url="http://127.0.0.1:9", pid=os.getppid(), kind="thread")
    url, source = server_links.resolve(backend)
    assert source == "thread" and url != "http://127.0.0.1:9"


def test_thread_server_registers_and_notes_its_links(backend, capfd):
    job = (wf.Int(1) + 1).compute(block=False).wait(30)
    server_links.base_url(backend)  # the server starts (as a launch that needs a link does) ...
    assert capfd.readouterr().err == ""  # ... quietly: no link exists yet to warn about
    url = job.url
    server = running_thread_server(backend)
    assert server is not None and url.startswith(server.url + "/results/")
    err = capfd.readouterr().err
    assert err.startswith("wf_widgets: This download link is served by the Python process that made it")
    assert "only while that process runs" in err and err.count("\n") == 1
    note = server_links.link_note(backend)
    assert note is not None and "only while that process runs" in note
    info = json.loads((backend.settings.home / "servers" / f"{os.getpid()}.json").read_text())
    assert info == {**info, "url": server.url, "pid": os.getpid(), "kind": "thread"}
    job.url  # a second link: the same server, no second note
    assert "only while" not in capfd.readouterr().err
    stop_thread_server(backend)
    assert not (backend.settings.home / "servers" / f"{os.getpid()}.json").exists()
    assert server_links.link_note(backend) is None


def test_link_agrees_with_expires_datetime_and_carries_no_identity(backend):
    backend.settings.public_url = "http://127.0.0.1:1"
    job = (wf.Int(1) + 1).compute(block=False).wait(30)
    query = parse_qs(urlsplit(job.url).query)
    assert set(query) == {"expires", "signature"}
    assert int(query["expires"][0]) == int(job.expires_datetime.timestamp())
    assert abs(job.expires_datetime.timestamp() - (job._row["finished"] + 10 * 86400)) < 1e-3
    for identity in ("alice", backend.settings.user, backend.settings.email):
        assert identity not in job.url


def test_signing_key_is_private_and_made_once(backend):
    path = backend.settings.home / "signing.key"
    assert not path.exists()
    key = backend.signer.key
    assert len(key) == 32 and path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert links.Signer(backend.settings).key == key  # another process would read the same key


def test_signatures_are_compared_in_constant_time(backend, monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(links.hmac, "compare_digest", spy)
    sig = backend.signer.signature("ab" * 24, 100)
    assert backend.signer.verify("ab" * 24, "100", sig)
    assert not backend.signer.verify("ab" * 24, "100", "0" * 64)
    assert len(calls) == 2


def test_many_threads_create_one_signing_key(backend):
    import threading

    signers = [links.Signer(backend.settings) for _ in range(2)]
    keys = []
    threads = [threading.Thread(target=lambda s=s: keys.append(s.key)) for s in signers * 8]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(keys) == 16 and len(set(keys)) == 1
    assert [p.name for p in backend.settings.home.iterdir() if "signing" in p.name] == ["signing.key"]


def test_servers_import_without_jupyter_or_widgets():
    code = ("import sys, wf_widgets.server, wf_widgets.server.standalone, wf_widgets.server.jupyter, "
            "wf_widgets.server.links, wf_widgets.delivery.mailer; "
            "bad = [m for m in ('ipywidgets', 'ipyleaflet', 'anywidget', 'jupyter_server', 'notebook') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
