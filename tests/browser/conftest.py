"""Real-browser fixtures: a JupyterLab server on 127.0.0.1 and Debian's Chromium via playwright.

Deselect these tests with ``-m "not browser"``. Never run ``playwright install``: the
browser is ``/usr/bin/chromium`` (``scripts/test`` installs it with apt-get when missing).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from wf_widgets.server.testing import free_port, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: JupyterLab settings of every test server: no "would you like to get Jupyter news?" pop-up
#: in the screenshots (and no request to the news feed).
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def write_lab_settings(directory: Path) -> Path:
    """An app settings folder holding ``overrides.json`` (:data:`LAB_OVERRIDES`); returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=2))
    return directory


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives JupyterLab in real Chromium (deselect with -m 'not browser')")


def wait_js(page, expression: str, arg=None, timeout_s: float = 60):
    """Poll a JS predicate every 500 ms (requestAnimationFrame polling hangs here)."""
    return page.wait_for_function(expression, arg=arg, polling=500, timeout=timeout_s * 1000)


def run_all_cells(page, url: str, timeout_s: float = 90) -> None:
    """Open the notebook at ``url``, wait for its kernel, run every cell, wait for the last one.

    The test notebooks end with a cell printing ``ALL-CELLS-RAN``.
    """
    page.goto(url)
    wait_js(page, "() => window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')", timeout_s=90)
    wait_js(page, "() => { const w = window.jupyterapp.shell.currentWidget;"
                  " const k = w && w.sessionContext && w.sessionContext.session"
                  " && w.sessionContext.session.kernel; return k && k.status === 'idle'; }", timeout_s=90)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); return 1; }")
    wait_js(page, "() => document.body.innerText.includes('ALL-CELLS-RAN')", timeout_s=timeout_s)


def write_notebook(path: Path, cells: list[str]) -> Path:
    """A notebook of code ``cells`` with a kernelspec (without one JupyterLab asks which kernel)."""
    nb = {
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": src}
                  for src in cells],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))
    return path


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
        settings = write_lab_settings(root.parent / "lab-settings")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={self.token}", "--allow-root", f"--ServerApp.root_dir={root}",
             "--LabApp.expose_app_in_browser=True", f"--LabApp.app_settings_dir={settings}"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=root)
        wait_for(self._ready, timeout=90, interval=0.2, what="JupyterLab to start")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"JupyterLab exited ({self.proc.returncode}); see {self.log.name}")
        try:
            with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def write_notebook(self, name: str, cells: list[str]) -> str:
        write_notebook(self.root / name, cells)
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
def extension_lab(tmp_path_factory):
    """JupyterLab with the wf_widgets server extension enabled (the config file pip installs)."""
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is not installed (scripts/test installs Debian's chromium)"
    base = tmp_path_factory.mktemp("ext-lab")
    root, home = base / "root", base / "home"
    root.mkdir()
    home.mkdir()
    old = os.environ.get("JUPYTER_CONFIG_PATH")
    os.environ["JUPYTER_CONFIG_PATH"] = str(Path(__file__).resolve().parents[2] / "jupyter-config")  # Lab copies os.environ
    try:
        server = Lab(root, home)
    finally:
        if old is None:
            os.environ.pop("JUPYTER_CONFIG_PATH", None)
        else:
            os.environ["JUPYTER_CONFIG_PATH"] = old
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


@contextlib.contextmanager
def notebook_page(lab: Lab, browser, name: str, cells: list[str], ready_js: str, *, height: int = 1400,
                  timeout_s: float = 90, watch: str | None = None):
    """A page that ran every cell of the notebook ``<name>.ipynb`` (``cells``) in ``lab``, once ``ready_js`` is true.

    ``page.js_errors`` collects the page's errors; with ``watch``, ``page.tile_responses`` the
    responses whose URL holds it. If the page does not get ready, its screenshot and the
    server's log are saved as artifacts (``<name>-startup-failure``).
    """
    url = lab.write_notebook(f"{name}.ipynb", cells)
    context = browser.new_context(viewport={"width": 1280, "height": height})
    try:
        pg = context.new_page()
        errors: list[str] = []
        responses: list = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        if watch is not None:
            pg.on("response", lambda response: responses.append(response) if watch in response.url else None)
        try:
            run_all_cells(pg, url, timeout_s=timeout_s)
            wait_js(pg, ready_js)
        except Exception:
            pg.screenshot(path=str(artifact(f"{name}-startup-failure.png")), full_page=True)
            copy_log(lab, f"jupyterlab-{name}-startup-failure.log")
            raise
        pg.js_errors = errors
        pg.tile_responses = responses
        yield pg
    finally:
        context.close()
