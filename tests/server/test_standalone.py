"""`wf-widgets serve` as a real subprocess; host checks; `wf-widgets sweep`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

import wf_widgets as wf
from wf_widgets.delivery.links import result_url
from wf_widgets.errors import ValidationError
from wf_widgets.server import registry, standalone
from wf_widgets.server.testing import fetch, wait_for
from wf_widgets.server.thread import running_thread_server

DAY = 86400.0


class Serve:
    """``python -m wf_widgets.server.standalone --port 0`` on a home folder, with a clock offset."""

    def __init__(self, home, offset_s: float = 0.0, user: str | None = None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
        env.update(WF_WIDGETS_HOME=str(home), WF_WIDGETS_NOW_OFFSET_S=str(offset_s))
        if user is not None:
            env["WF_WIDGETS_USER"] = user
        self.proc = subprocess.Popen([sys.executable, "-m", "wf_widgets.server.standalone", "--port", "0"],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.file = home / "servers" / f"{self.proc.pid}.json"

        def registered():
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited: {self.proc.communicate()}")
            return self.file.exists() and json.loads(self.file.read_text())

        self.info = wait_for(registered, timeout=30, what="the standalone server's file")
        self.url = self.info["url"]

    def stop(self) -> tuple[str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=30)
        return out.decode(), err.decode()


@pytest.fixture
def serve(backend):
    started = []

    def start(offset_s: float = 0.0) -> Serve:
        s = Serve(backend.settings.home, offset_s)
        started.append(s)
        return s

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def test_serves_links_and_refuses_them_after_expiry(backend, serve):
    server = serve()
    assert server.info["kind"] == "standalone" and server.url.startswith("http://127.0.0.1:")
    assert json.loads(fetch(server.url + "/health").body)["kind"] == "standalone"

    job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    url = job.url
    assert url.startswith(server.url + "/results/")  # the live standalone server, not a thread
    assert running_thread_server(backend) is None
    r = fetch(url)
    assert r.status == 200 and r.body == b"2"
    assert fetch(url, headers={"Range": "bytes=0-0"}).status == 206

    out, err = server.stop()
    assert server.proc.returncode == 0, err
    assert not server.file.exists()  # removed on exit
    assert "serving results of" in err and "signature=" not in err

    later = serve(offset_s=10 * DAY + 60)  # the clock moved past the expiry
    r = fetch(later.url + "/results/" + url.split("/results/")[1])
    assert r.status == 410 and "expired" in r.text
    # The sweep at start deleted the file and marked the row.
    row = backend.jobs.get(job.id)
    assert row["result_deleted"] == 1
    assert not (backend.results.root / row["result_path"]).exists()


def test_a_running_server_sees_a_rotated_key_within_seconds(backend, serve):
    server = serve()
    job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    old = job.url
    assert old.startswith(server.url) and fetch(old).status == 200
    (backend.settings.home / "signing.key").unlink()  # rotate: whoever looks next makes a new key

    def rotated():
        new = result_url(backend.signer, backend.link_base(), job.id, job._row["expires"])
        return new != old and fetch(old).status == 403 and fetch(new).status == 200

    wait_for(rotated, timeout=15, what="the server and this kernel to use the new key")
    assert server.proc.poll() is None


def test_a_huge_range_is_416_and_the_log_never_holds_a_signature(backend, serve):
    server = serve()
    job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    assert job.url.startswith(server.url)
    huge = "9" * 4301  # one digit more than Python turns into an int
    r = fetch(job.url, headers={"Range": f"bytes={huge}-"})
    assert r.status == 416 and r.headers["Content-Range"] == "bytes */1" and huge not in r.text
    r = fetch(job.url, headers={"Range": f"bytes=0-{huge}"})  # a last byte past the end: clipped
    assert r.status == 206 and r.body == b"2"
    r = fetch(job.url, headers={"Range": f"bytes=-{huge}"})
    assert r.status == 206 and r.body == b"2"
    assert fetch(job.url.replace("signature=", "signature=0")).status == 403
    out, err = server.stop()
    assert job.id in err  # the access log is there...
    assert "signature=" not in err and "expires=" not in err and "Traceback" not in err  # ...without the link


def test_binding_beyond_loopback_needs_a_public_url(capsys):
    assert standalone.main(["--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "--public-url" in err and "0.0.0.0" in err
    with pytest.raises(ValidationError, match="pass --public-url"):
        standalone.serve("192.0.2.10", 0)


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.1.2.3", True),
    ("0.0.0.0", False), ("", False), ("::", False), ("10.0.0.1", False), ("example.org", False),
])
def test_is_loopback(host, loopback):
    assert standalone.is_loopback(host) is loopback


def test_registry_helpers_see_only_live_servers(backend, serve):
    server = serve()
    assert [s["url"] for s in registry.live_servers(backend.settings, kind="standalone")] == [server.url]
    server.proc.kill()  # no chance to clean up: its file stays, stale
    server.proc.wait()
    assert server.file.exists()
    assert registry.live_servers(backend.settings) == []


def test_a_corrupted_job_store_stops_the_server_with_a_clear_error(backend):
    from ..test_sqlite import corrupt

    home = backend.settings.home
    (wf.Int(1) + 1).compute()
    backend.close()
    corrupt(home / "jobs.sqlite")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
    out = subprocess.run([sys.executable, "-m", "wf_widgets.server.standalone", "--port", "0"],
                         env=dict(env, WF_WIDGETS_HOME=str(home)), capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr.startswith(f"wf-widgets serve: error: The store {home / 'jobs.sqlite'} is corrupted")
    assert "wf-widgets doctor --repair" in out.stderr and "Traceback" not in out.stderr
