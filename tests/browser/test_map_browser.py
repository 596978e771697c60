"""TileMap in JupyterLab with the wf_widgets server extension, in real Chromium.

One notebook, run once: the demo data, a 400 px high TileMap centred on Santa Fe at zoom 12
previewing the demo composite, and an ExportForm linked to the map. The tests check that the
map shows tiles our server rendered (PNG responses from ``/wf-widgets/tiles/`` with opaque
pixels), that its side panel is one line that covers neither the drawing tools nor the
selected tiles until opened, that a rectangle drawn with leaflet-draw selects tiles, and
that the form then runs one job per tile, all SUCCEEDED on its board. The same map in Voila
keeps its panel to one line clear of the drawing tools. Every wait polls a condition.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys

import pytest

from wf_widgets.server.testing import free_port, wait_for

from .conftest import artifact, copy_log, notebook_page, wait_js, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

MAP = ".wf-test-map"
FORM = ".wf-map-form"
PANEL = f"{MAP} .wf-map-panel"

CELLS = [
    "import wf_widgets as wf\nfrom wf_widgets.demo_data import make_demo_data\nmake_demo_data()",
    "composite = wf.ImageCollection.from_id('sentinel-1:GRD', '2020-01-01', '2020-05-01').mean(axis='images')\n"
    "m = wf.widgets.TileMap(center=(35.6870, -105.9378), zoom=12, tile_size=256, layout={'height': '400px'})\n"
    "m.add_class('wf-test-map')\n"
    "m.preview(composite)\n"
    "m",
    "form = wf.widgets.ExportForm(composite, m)\nform.add_class('wf-map-form')\nform",
    "print('ALL-CELLS-RAN')",
]


@pytest.fixture(scope="module")
def page(extension_lab, browser):
    with notebook_page(extension_lab, browser, "map", CELLS,
                       f"() => document.querySelector('{MAP} .leaflet-container')", timeout_s=120, watch="/tiles/") as pg:
        yield pg


def _opaque_tiles(page) -> int:
    from ..map.conftest import decode_png

    count = 0
    for response in list(page.tile_responses):
        if response.status != 200 or response.headers.get("content-type") != "image/png":
            continue
        pixels = decode_png(response.body())
        if (pixels[..., 3] > 0).sum() > 1000:
            count += 1
    return count


def test_the_map_shows_tiles_from_our_server(page):
    try:
        page.locator(MAP).scroll_into_view_if_needed()
        # the probe reached /health from the page: live tiles, no fallback
        wait_js(page, f"() => {{ const s = document.querySelector('{MAP} .wf-map-status');"
                      " return s && s.innerText.includes('Tiles from the Jupyter server extension (/wf-widgets).'); }")
        deadline_checks = 0
        while _opaque_tiles(page) == 0:
            deadline_checks += 1
            assert deadline_checks < 60, [(r.url, r.status) for r in page.tile_responses]
            page.wait_for_timeout(500)  # polling interval of a condition on network responses
        urls = [r.url for r in page.tile_responses]
        assert all("/wf-widgets/tiles/" in u for u in urls), urls
        assert page.query_selector(f"{MAP} img.leaflet-tile[src*='/wf-widgets/tiles/']") is not None
        assert not page.js_errors, page.js_errors
    finally:
        page.screenshot(path=str(artifact("tile-map.png")), full_page=True)


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box


def _overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def check_collapsed_panel(page, root: str) -> dict:
    """The panel of the map under ``root`` is one line, clear of the drawing tools; returns its box."""
    panel, summary = f"{root} .wf-map-panel", f"{root} .wf-map-summary"
    wait_js(page, f"() => {{ const s = document.querySelector('{summary}'); return s && s.innerText.trim(); }}")
    assert page.evaluate(f"() => getComputedStyle(document.querySelector('{root} .wf-map-panel-body')).display")\
        == "none"
    box, tools, view = _box(page, panel), _box(page, f"{root} .leaflet-draw-toolbar"), _box(page, f"{root} .leaflet-container")
    assert not _overlap(box, tools), (box, tools)
    assert box["height"] <= 44, box  # one line: the toggle and the summary
    assert box["width"] * box["height"] <= 0.06 * view["width"] * view["height"], (box, view)
    line = page.evaluate(f"() => document.querySelector('{summary} div').getBoundingClientRect().height")
    assert line <= 30, line  # the summary does not wrap
    return box


def test_the_panel_is_one_line_until_opened(page):
    try:
        page.locator(MAP).scroll_into_view_if_needed()
        check_collapsed_panel(page, MAP)
        assert page.inner_text(f"{MAP} .wf-map-summary").strip() == "No tile selected"
        page.click(f"{MAP} .wf-map-panel-toggle")  # open: the controls, the status, the layers
        wait_js(page, f"() => getComputedStyle(document.querySelector('{MAP} .wf-map-panel-body')).display !== 'none'")
        assert page.locator(f"{MAP} .wf-map-use-viewport").is_visible()
        assert "Tiles from the Jupyter server extension" in page.inner_text(f"{MAP} .wf-map-status")
        page.locator(MAP).screenshot(path=str(artifact("tile-map-panel-open.png")))
        page.click(f"{MAP} .wf-map-panel-toggle")
        wait_js(page, f"() => getComputedStyle(document.querySelector('{MAP} .wf-map-panel-body')).display === 'none'")
        assert not page.js_errors, page.js_errors
    finally:
        page.locator(MAP).screenshot(path=str(artifact("tile-map-panel.png")))


def test_draw_a_rectangle_and_launch_one_job_per_tile(page, extension_lab):
    try:
        page.locator(MAP).scroll_into_view_if_needed()
        page.click(f"{MAP} a.leaflet-draw-draw-rectangle")
        box = page.locator(f"{MAP} .leaflet-container").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(cx - 40, cy - 30)
        page.mouse.down()
        page.mouse.move(cx + 10, cy + 5, steps=5)
        page.mouse.move(cx + 60, cy + 40, steps=5)
        page.mouse.up()
        wait_js(page, f"() => {{ const s = document.querySelector('{MAP} .wf-map-summary');"
                      " return s && /^\\d+ tiles? selected · [\\d.]+ [KMG]iB$/.test(s.innerText.trim()); }",
                timeout_s=30)
        text = page.inner_text(f"{MAP} .wf-map-summary")
        n = int(text.split(" tile")[0].replace(",", ""))
        assert 1 <= n <= 30, text
        # selected tiles are drawn in the grid layer, and the collapsed panel covers none of them
        selected = f"{MAP} path.leaflet-interactive[stroke=\"#e8590c\"]"
        wait_js(page, f"() => document.querySelectorAll('{selected}').length >= {n}", timeout_s=30)
        panel = check_collapsed_panel(page, MAP)
        for tile in page.locator(selected).all():
            assert not _overlap(panel, tile.bounding_box()), (panel, tile.bounding_box())
        button = f"{FORM} button.wf-export-compute"
        wait_js(page, f"() => {{ const b = document.querySelector('{button}');"
                      f" return b && !b.disabled && b.innerText.includes('({n} job'); }}", timeout_s=30)
        page.click(button)
        wait_js(page, f"() => document.querySelectorAll('{FORM} .wf-jobs-row[data-stage=\"SUCCEEDED\"]').length"
                      f" === {n}", timeout_s=90)
        assert len(page.query_selector_all(f"{FORM} .wf-jobs-row")) == n
        assert f"SUCCEEDED {n}" in page.inner_text(f"{FORM} .wf-jobs-counts")
        assert not page.js_errors, page.js_errors
    except Exception:
        copy_log(extension_lab, "jupyterlab-map.log")
        raise
    finally:
        page.screenshot(path=str(artifact("tile-map-jobs.png")), full_page=True)


# -- the same map in Voila ---------------------------------------------------------------------------------
VOILA_CELLS = [
    "import wf_widgets as wf\nfrom wf_widgets.demo_data import make_demo_data\nmake_demo_data();",
    "composite = wf.ImageCollection.from_id('sentinel-1:GRD', '2020-01-01', '2020-05-01').mean(axis='images')\n"
    "m = wf.widgets.TileMap(center=(35.6870, -105.9378), zoom=12, tile_size=256, layout={'height': '400px'})\n"
    "m.add_class('wf-voila-map')\n"
    "m.preview(composite)\n"
    "m.select([wf.DLTile.from_latlon(35.6870, -105.9378 + 0.03 * i, 10, 256, 0) for i in range(2)])\n"
    "m",
]


@pytest.fixture(scope="module")
def voila(tmp_path_factory):
    """Voila serving one notebook with the map, on 127.0.0.1 with a token; yields its URL."""
    base = tmp_path_factory.mktemp("voila")
    home = base / "home"
    home.mkdir()
    notebook = write_notebook(base / "map.ipynb", VOILA_CELLS)
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
    env.update(WF_WIDGETS_HOME=str(home), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTER_CONFIG_DIR=str(base / "config"), PYTHONUNBUFFERED="1")
    log = open(base / "voila.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
                             f"--token={token}", str(notebook)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=base)
    url = f"http://127.0.0.1:{port}/"

    def up() -> bool:  # listening (a request for the page itself would run the notebook)
        assert proc.poll() is None, (base / "voila.log").read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return True
        except OSError:
            return False

    try:
        wait_for(up, timeout=90, interval=0.2, what="Voila to start")
        yield f"{url}?token={token}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_in_voila_the_collapsed_panel_is_one_line_clear_of_the_drawing_tools(voila, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(voila)
        wait_js(page, "() => document.querySelector('.wf-voila-map .leaflet-draw-toolbar')", timeout_s=120)
        wait_js(page, "() => { const s = document.querySelector('.wf-voila-map .wf-map-summary');"
                      " return s && s.innerText.includes('2 tiles selected'); }", timeout_s=60)
        assert page.inner_text(".wf-voila-map .wf-map-summary").strip() == "2 tiles selected · 2.0 MiB"
        check_collapsed_panel(page, ".wf-voila-map")
        assert not errors, errors
    finally:
        page.screenshot(path=str(artifact("voila-tile-map.png")), full_page=True)
        context.close()
