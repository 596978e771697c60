"""Tiles under the Jupyter server extension keep Jupyter's login."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from wf_widgets.server import app as wf_app
from wf_widgets.server.testing import fetch, free_port, wait_for

from .conftest import WEST, decode_png, pixel_at, point

pytest.importorskip("jupyter_server")

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "wf-map-token"


def test_the_jupyter_tile_route_needs_a_login_and_the_others_do_not():
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.serverapp import ServerWebApplication

    rules = wf_app.handlers(None, "/wf-widgets/", "jupyter")
    tile = [handler for pattern, handler, _ in rules if "tiles" in pattern]
    assert len(tile) == 1 and issubclass(tile[0], JupyterHandler)
    for pattern, handler, _ in rules:
        assert ServerWebApplication._check_handler_auth(None, pattern, handler) == [], pattern
    plain = [handler for pattern, handler, _ in wf_app.handlers(None, "/", "thread") if "tiles" in pattern]
    assert not issubclass(plain[0], JupyterHandler)


@pytest.fixture
def jupyter(map_backend, tmp_path):
    port = free_port()
    jdir = tmp_path / "jupyter"
    for sub in ("config", "data", "runtime", "root"):
        (jdir / sub).mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WF_WIDGETS_", "JUPYTER"))}
    env.update(WF_WIDGETS_HOME=str(map_backend.settings.home), JUPYTER_CONFIG_DIR=str(jdir / "config"),
               JUPYTER_DATA_DIR=str(jdir / "data"), JUPYTER_RUNTIME_DIR=str(jdir / "runtime"),
               JUPYTER_CONFIG_PATH=str(ROOT / "jupyter-config"))
    log = open(tmp_path / "jupyter.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
         "--allow-root", f"--ServerApp.root_dir={jdir / 'root'}", "--ServerApp.base_url=/jl/",
         "--ServerApp.allow_unauthenticated_access=False"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/jl"
    try:
        wait_for(lambda: proc.poll() is None and fetch(f"{base}/api/status?token={TOKEN}", timeout=5).status == 200,
                 timeout=60, interval=0.1, what="jupyter_server's /api/status")
        yield base, tmp_path / "jupyter.log"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def test_tiles_under_the_extension_need_the_token(known, map_backend, jupyter):
    base, log = jupyter
    layer = map_backend.layers.put(known.to_json(), {"scales": [[0, 4000]]}, name="known")
    z, x, y, col, row = pixel_at(*point(25.5, 50.5))
    url = f"{base}/wf-widgets/tiles/{layer['id']}/{z}/{x}/{y}.png"
    anonymous = fetch(url)
    assert anonymous.status == 403 and "log in to Jupyter" in anonymous.text
    r = fetch(url, headers={"Authorization": f"token {TOKEN}"})
    assert r.status == 200 and r.headers["Content-Type"] == "image/png"
    level = round(WEST * 255 / 4000)
    assert decode_png(r.body)[row, col].tolist() == [level, level, level, 255]
    health = fetch(f"{base}/wf-widgets/health")  # still public
    assert health.status == 200 and json.loads(health.body)["kind"] == "jupyter"
    assert "registered for /jl/wf-widgets" not in log.read_text()  # no route lacks an auth mark
