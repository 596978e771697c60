"""Voila dashboards seen by a visitor on another machine, in real Chromium.

The test makes a network namespace (``ip netns add``) joined to this one by a veth pair,
and runs Voila *inside* it, listening on the namespace's address: Chromium, outside, reaches
Voila by that non-loopback address, as a visitor on another machine would, and cannot reach
anything on the namespace's 127.0.0.1 (where a kernel's own server listens). Needs root
(or CAP_NET_ADMIN); skipped with the reason otherwise.

* ``wf-widgets voila examples/map_export.ipynb``: the wf_widgets handlers are served by
  Voila's own server, so the map shows live tiles from the page's origin; the page is
  visited twice (each visit runs the notebook again, on the same home folder).
* plain ``voila``: no server extension is loaded; tiles would come from the kernel's server
  on 127.0.0.1, which the browser cannot reach: the map says so and shows static images.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from wf_widgets.server.testing import wait_for

from .conftest import artifact, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
#: The /30 of the test's own namespace pair (a link of two addresses that exists only while the test runs).
HOST_ADDR, NS_ADDR = "10.213.77.1", "10.213.77.2"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


class Namespace:
    """A network namespace with lo up and a veth link to this one: ``NS_ADDR`` there, ``HOST_ADDR`` here."""

    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.name, self.host_if, self.ns_if = f"wfv{tag}", f"wfvh{tag}", f"wfvn{tag}"
        _ip("netns", "add", self.name)
        try:
            _ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
            _ip("link", "set", self.ns_if, "netns", self.name)
            _ip("addr", "add", f"{HOST_ADDR}/30", "dev", self.host_if)
            _ip("link", "set", self.host_if, "up")
            self.run("ip", "addr", "add", f"{NS_ADDR}/30", "dev", self.ns_if)
            self.run("ip", "link", "set", self.ns_if, "up")
            self.run("ip", "link", "set", "lo", "up")
        except BaseException:
            self.delete()
            raise

    def command(self, *args: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *args]

    def run(self, *args: str) -> None:
        subprocess.run(self.command(*args), capture_output=True, text=True, check=True)

    def delete(self) -> None:
        _ip("link", "del", self.host_if, check=False)  # deletes its peer too
        _ip("netns", "del", self.name, check=False)


@pytest.fixture(scope="module")
def netns():
    if not os.access("/usr/bin/chromium", os.X_OK):
        pytest.skip("/usr/bin/chromium is not installed (scripts/test installs Debian's chromium)")
    if shutil.which("ip") is None:
        pytest.skip("the `ip` command (iproute2) is not installed: no network namespace for a remote visitor")
    try:
        ns = Namespace()
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"cannot make a network namespace here ({' '.join(exc.cmd)}: {exc.stderr.strip()}); "
                    "it needs root or CAP_NET_ADMIN")
    yield ns
    ns.delete()


class VoilaServer:
    """Voila (``command``) on ``NS_ADDR`` inside the namespace, serving a copy of ``examples/``."""

    def __init__(self, ns: Namespace, base: Path, command: list[str], notebook: str):
        self.root, self.home = base / "root", base / "home"
        shutil.copytree(EXAMPLES, self.root)
        self.home.mkdir()
        self.port = 18866 + int.from_bytes(os.urandom(2), "big") % 2000
        self.url = f"http://{NS_ADDR}:{self.port}/"
        self.log = open(base / "voila.log", "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
        env.update(WF_WIDGETS_HOME=str(self.home), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
                   JUPYTER_CONFIG_DIR=str(base / "config"), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            ns.command(*command, notebook, f"--Voila.ip={NS_ADDR}", f"--Voila.port={self.port}",
                       "--Voila.port_retries=0", "--no-browser", "--show_tracebacks=True"),
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.root)
        wait_for(self._ready, timeout=90, interval=0.2, what="Voila to start")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"Voila exited ({self.proc.returncode}); see {self.log.name}")
        try:
            with urllib.request.urlopen(self.url + "voila/static/", timeout=2) as r:
                return r.status < 500
        except urllib.error.HTTPError as exc:
            return exc.code < 500
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self, name: str) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.copy(self.log.name, artifact(name))


def visit(browser, url: str, shot: str):
    """Open the dashboard, wait until every cell ran (the last one lists the product's images)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    page.js_errors, page.tiles = [], []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.on("response", lambda r: page.tiles.append(r) if "/tiles/" in r.url else None)
    try:
        page.goto(url, timeout=120_000)
        # the last cell lists the images the jobs uploaded (named by tile keys, ':' -> '_'); or a cell failed
        wait_js(page, "() => { const t = document.body.innerText;"
                      " return t.includes(\"['512_\") || t.includes('Traceback')"
                      " || t.includes('There was an error'); }", timeout_s=180)
        wait_js(page, "() => document.querySelector('.wf-tile-map .leaflet-container, .leaflet-container')",
                timeout_s=60)
    except Exception:
        page.screenshot(path=str(artifact(f"{shot}-failure.png")), full_page=True)
        raise
    return context, page


def assert_ran_without_errors(page) -> None:
    text = page.inner_text("body")
    assert "Traceback" not in text and "There was an error" not in text, text[-3000:]
    assert "True valid" in text  # the form's check, then its jobs
    assert "'FAILED'" not in text


def status_text(page) -> str:
    return page.inner_text(".wf-map-status") if page.query_selector(".wf-map-status") else ""


def test_wf_widgets_voila_serves_tiles_to_a_remote_visitor_on_every_visit(netns, browser, tmp_path):
    command = [sys.executable, "-m", "wf_widgets.cli", "voila"]
    server = VoilaServer(netns, tmp_path, command, "map_export.ipynb")
    try:
        for visit_number in (1, 2):  # each visit runs the notebook again on the same home
            context, page = visit(browser, server.url, f"voila-visit-{visit_number}")
            try:
                assert_ran_without_errors(page)
                wait_js(page, "() => { const s = document.querySelector('.wf-map-status');"
                              " return s && s.innerText.includes('(/wf-widgets).'); }", timeout_s=60)
                wait_for(lambda: any(r.status == 200 and r.headers.get("content-type") == "image/png"
                                     for r in list(page.tiles)), timeout=60, interval=0.5,
                         what="a tile from Voila's own server")
                origin = f"http://{NS_ADDR}:{server.port}/wf-widgets/tiles/"
                assert all(r.url.startswith(origin) for r in page.tiles), [r.url for r in page.tiles]
                assert page.query_selector("img.leaflet-tile[src*='/wf-widgets/tiles/']") is not None
                assert not page.query_selector("img.leaflet-image-layer")  # no static fallback
                assert not page.js_errors, page.js_errors
            finally:
                page.screenshot(path=str(artifact(f"voila-visit-{visit_number}.png")), full_page=True)
                context.close()
    finally:
        server.stop("voila-wf-widgets.log")


def test_plain_voila_falls_back_to_static_images_for_a_remote_visitor(netns, browser, tmp_path):
    server = VoilaServer(netns, tmp_path, [sys.executable, "-m", "voila"], "map_export.ipynb")
    try:
        context, page = visit(browser, server.url, "voila-plain")
        try:
            assert_ran_without_errors(page)
            wait_js(page, "() => { const s = document.querySelector('.wf-map-status');"
                          " return s && s.innerText.includes('is not reachable from this browser'); }", timeout_s=60)
            assert "127.0.0.1" in status_text(page)  # the kernel's own server: out of the visitor's reach
            wait_js(page, "() => document.querySelector('img.leaflet-image-layer')", timeout_s=60)
            assert not [r for r in page.tiles if r.status == 200], [r.url for r in page.tiles]
        finally:
            page.screenshot(path=str(artifact("voila-plain.png")), full_page=True)
            context.close()
    finally:
        server.stop("voila-plain.log")
