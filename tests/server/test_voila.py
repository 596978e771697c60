"""`wf-widgets voila`: Voila with the wf_widgets handlers on its own server, as a real subprocess."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys

import pytest

from wf_widgets.server.testing import fetch, free_port, wait_for

pytest.importorskip("voila", reason="voila is in the test extras")

PROBE = """\
import json
import wf_widgets as wf
from wf_widgets.server import links
from wf_widgets.widgets._map_server import resolve_tile_server
server = resolve_tile_server(wf.get_backend())
print("WF-PROBE " + json.dumps({"tiles": [server.kind, server.base], "links": list(links.resolve(wf.get_backend()))}))
"""


def test_voila_serves_the_handlers_and_its_kernels_use_them(tmp_path):
    nb = {"cells": [{"cell_type": "code", "id": "probe", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": PROBE}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "probe.ipynb").write_text(json.dumps(nb))
    home, port = tmp_path / "home", free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
    env.update(WF_WIDGETS_HOME=str(home), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    proc = subprocess.Popen([sys.executable, "-m", "wf_widgets.cli", "voila", "probe.ipynb", "--Voila.ip=127.0.0.1",
                             f"--Voila.port={port}", "--Voila.port_retries=0", "--no-browser"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        health = wait_for(lambda: proc.poll() is None and fetch(base + "/wf-widgets/health", timeout=2).status == 200
                          and fetch(base + "/wf-widgets/health"), timeout=90, interval=0.2, what="Voila's /wf-widgets/health")
        assert json.loads(health.body) == {"ok": True, "kind": "jupyter", "pid": proc.pid}
        info = wait_for(lambda: json.loads((home / "servers" / f"{proc.pid}.json").read_text()), timeout=30,
                        what="the server's file")
        assert info["url"] == f"{base}/wf-widgets" and info["kind"] == "jupyter"
        page = fetch(base + "/", timeout=120)  # runs the notebook in a kernel Voila starts
        assert page.status == 200
        line = html.unescape(page.body.decode()).split("WF-PROBE ", 1)[1].split("\n", 1)[0]
        # the kernel's map asks the page's origin for tiles; its links use Voila's server
        assert json.loads(line) == {"tiles": ["jupyter", "/wf-widgets"], "links": [f"{base}/wf-widgets", "jupyter"]}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not (home / "servers" / f"{proc.pid}.json").exists()
