"""A real jupyter_server, with the wf_widgets extension enabled by the config file the package ships."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

from wf_widgets.server.testing import fetch, free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def jupyter_server(home: Path, tmp_path: Path, token: str,
                   env_extra: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen, str, Path]]:
    """Start jupyter_server on 127.0.0.1 under ``/jl/`` with WF_WIDGETS_HOME=``home`` (and ``env_extra``).

    Yields ``(process, base URL, log file)``; the server is stopped afterwards. Every
    extension route must say whether it needs a login (``allow_unauthenticated_access=False``).
    """
    port = free_port()
    jdir = tmp_path / "jupyter"
    for sub in ("config", "data", "runtime", "root"):
        (jdir / sub).mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WF_WIDGETS_", "JUPYTER"))}
    env.update(WF_WIDGETS_HOME=str(home), JUPYTER_CONFIG_DIR=str(jdir / "config"),
               JUPYTER_DATA_DIR=str(jdir / "data"), JUPYTER_RUNTIME_DIR=str(jdir / "runtime"),
               JUPYTER_CONFIG_PATH=str(ROOT / "jupyter-config"))  # the file pip installs
    env.update(env_extra or {})
    log_path = tmp_path / "jupyter.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
         "--allow-root", f"--ServerApp.root_dir={jdir / 'root'}", "--ServerApp.base_url=/jl/",
         "--ServerApp.allow_unauthenticated_access=False"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/jl"

    def up() -> bool:
        assert proc.poll() is None, log_path.read_text()
        return fetch(f"{base}/api/status?token={token}", timeout=5).status == 200

    try:
        wait_for(up, timeout=60, interval=0.1, what="jupyter_server's /api/status")
        yield proc, base, log_path
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
