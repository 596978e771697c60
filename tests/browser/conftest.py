"""Real-browser fixtures: a JupyterLab server on 127.0.0.1 and Debian's Chromium via playwright.

Deselect these tests with ``-m "not browser"``. Never run ``playwright install``: the
browser is ``/usr/bin/chromium`` (``scripts/test`` installs it with apt-get when missing).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives JupyterLab in real Chromium (deselect with -m 'not browser')")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s")


class Lab:
    """A running JupyterLab: its URL, token, root folder and the WF_WIDGETS_HOME of its kernels."""

    def __init__(self, root: Path, home: Path):
        self.root, self.home = root, home
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(root.parent / "jupyterlab.log", "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
        env.update(WF_WIDGETS_HOME=str(home), JUPYTER_RUNTIME_DIR=str(root.parent / "runtime"),
                   JUPYTER_CONFIG_DIR=str(root.parent / "config"), JUPYTERLAB_WORKSPACES_DIR=str(root.parent / "ws"),
                   PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={self.token}", "--allow-root", f"--ServerApp.root_dir={root}",
             "--LabApp.expose_app_in_browser=True"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=root)
        wait_for(self._ready, 90, "JupyterLab did not start")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"JupyterLab exited ({self.proc.returncode}); see {self.log.name}")
        try:
            with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def write_notebook(self, name: str, cells: list[str]) -> str:
        nb = {
            "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": src}
                      for src in cells],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5,
        }
        (self.root / name).write_text(json.dumps(nb))
        return f"{self.url}/lab/tree/{name}?token={self.token}"

    def stop(self) -> None:
        try:
            req = urllib.request.Request(f"{self.url}/api/shutdown?token={self.token}", method="POST")
            urllib.request.urlopen(req, timeout=10).close()  # shuts the kernels down too
            self.proc.wait(timeout=20)
        except Exception:
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is not installed (scripts/test installs Debian's chromium)"
    base = tmp_path_factory.mktemp("lab")
    root, home = base / "root", base / "home"
    root.mkdir()
    home.mkdir()
    server = Lab(root, home)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def copy_log(lab: Lab, name: str) -> None:
    lab.log.flush()
    shutil.copy(lab.log.name, artifact(name))
