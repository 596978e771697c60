"""The Jupyter server extension, loaded by a real jupyter_server started by the test."""

from __future__ import annotations

import json
import signal

import pytest

import wf_widgets as wf
from wf_widgets.server import routes as wf_app
from wf_widgets.server.testing import fetch, wait_for
from wf_widgets.server.thread import running_thread_server

from .._jupyter import ROOT, jupyter_server

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
    with jupyter_server(backend.settings.home, tmp_path, TOKEN) as server:
        yield server


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
    assert f"/jl/wf-widgets/results/{job.id}" in text  # Jupyter's access log shows refused links...
    assert "signature=" not in text and "expires=" not in text  # ...by their path alone
    assert not server_file.exists()  # removed on exit
