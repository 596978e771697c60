"""The Jupyter server extension, loaded by a real jupyter_server started by the test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import wf_widgets as wf
from wf_widgets.server import app as wf_app
from wf_widgets.server.testing import fetch, free_port, wait_for
from wf_widgets.server.thread import running_thread_server


ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "jupyter-config" / "jupyter_server_config.d" / "wf_widgets.json"
TOKEN = "wf-test-token"


def test_shipped_config_enables_the_package():
    assert json.loads(CONFIG.read_text()) == {"ServerApp": {"jpserver_extensions": {"wf_widgets": True}}}


def test_extension_points():
    from wf_widgets.server import jupyter

    assert jupyter._jupyter_server_extension_points() == [{"module": "wf_widgets.server.jupyter"}]
    assert wf._jupyter_server_extension_points() == [{"module": "wf_widgets.server.jupyter"}]


def test_public_handlers_pass_jupyters_auth_check():
    from jupyter_server.serverapp import ServerWebApplication

    for pattern, handler, _ in wf_app.handlers(None, "/wf-widgets/", "jupyter"):
        assert ServerWebApplication._check_handler_auth(None, pattern, handler) == [], pattern


@pytest.fixture
def jupyter(backend, tmp_path):
    port = free_port()
    jdir = tmp_path / "jupyter"
    for sub in ("config", "data", "runtime", "root"):
        (jdir / sub).mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WF_WIDGETS_", "JUPYTER"))}
    env.update(WF_WIDGETS_HOME=str(backend.settings.home), JUPYTER_CONFIG_DIR=str(jdir / "config"),
               JUPYTER_DATA_DIR=str(jdir / "data"), JUPYTER_RUNTIME_DIR=str(jdir / "runtime"))
    args = [sys.executable, "-m", "jupyter_server", "--no-browser", f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
            "--allow-root", f"--ServerApp.root_dir={jdir / 'root'}", "--ServerApp.base_url=/jl/",
            # Jupyter then requires every extension route to say whether it needs a login.
            "--ServerApp.allow_unauthenticated_access=False"]
    env["JUPYTER_CONFIG_PATH"] = str(ROOT / "jupyter-config")  # the file pip installs
    log = open(tmp_path / "jupyter.log", "wb")
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/jl"

    def up():
        assert proc.poll() is None, (tmp_path / "jupyter.log").read_text()
        return fetch(f"{base}/api/status?token={TOKEN}", timeout=5).status == 200

    try:
        wait_for(up, timeout=60, interval=0.1, what="jupyter_server's /api/status")
        yield proc, base, tmp_path / "jupyter.log"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def test_extension_serves_results_without_the_token(backend, jupyter):
    proc, base, log = jupyter
    server_file = backend.settings.home / "servers" / f"{proc.pid}.json"
    info = wait_for(lambda: server_file.exists() and json.loads(server_file.read_text()), timeout=30,
                    what="the Jupyter server's file")
    assert info["kind"] == "jupyter" and info["url"] == f"{base}/wf-widgets"

    health = fetch(f"{base}/wf-widgets/health")
    assert health.status == 200 and json.loads(health.body)["kind"] == "jupyter"
    assert fetch(f"{base}/api/status").status == 403  # Jupyter's own API still needs the token

    job = (wf.Int(1) + 1).compute(format="json", block=False).wait(30)
    url = job.url
    assert url.startswith(f"{base}/wf-widgets/results/{job.id}?expires=")  # the live extension wins
    assert running_thread_server(backend) is None
    r = fetch(url)  # no token, no cookie
    assert r.status == 200 and r.body == b"2"
    assert r.headers["Content-Disposition"] == f'attachment; filename="{job.id}.json"'
    assert fetch(url, method="HEAD").headers["Content-Length"] == "1"
    assert fetch(url.replace("signature=", "signature=f")).status == 403
    assert fetch(f"{base}/wf-widgets/results/").status == 404
    assert fetch(f"{base}/wf-widgets/results/..%2F..%2Fetc%2Fpasswd?expires=1&signature=0").status == 404

    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    text = log.read_text()
    assert "wf_widgets: serving download links under /jl/wf-widgets/" in text
    assert "registered for /jl/wf-widgets" not in text  # Jupyter's list of routes lacking an auth mark
    assert not server_file.exists()  # removed on exit
