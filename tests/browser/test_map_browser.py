"""TileMap in JupyterLab with the wf_widgets server extension, in real Chromium.

One notebook, run once: the demo data, a TileMap centred on Santa Fe at zoom 12 previewing
the demo composite, and an ExportForm linked to the map. The tests check that the map shows
tiles our server rendered (PNG responses from ``/wf-widgets/tiles/`` with opaque pixels),
that a rectangle drawn with leaflet-draw selects tiles, and that the form then runs one job
per tile, all SUCCEEDED on its board. Every wait polls a condition.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import Lab, artifact, copy_log, run_all_cells, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
MAP = ".wf-test-map"
FORM = ".wf-map-form"

CELLS = [
    "import wf_widgets as wf\nfrom wf_widgets.demo_data import make_demo_data\nmake_demo_data()",
    "composite = wf.ImageCollection.from_id('sentinel-1:GRD', '2020-01-01', '2020-05-01').mean(axis='images')\n"
    "m = wf.widgets.TileMap(center=(35.6870, -105.9378), zoom=12, tile_size=256, layout={'height': '460px'})\n"
    "m.add_class('wf-test-map')\n"
    "m.preview(composite)\n"
    "m",
    "form = wf.widgets.ExportForm(composite, m)\nform.add_class('wf-map-form')\nform",
    "print('ALL-CELLS-RAN')",
]


@pytest.fixture(scope="module")
def map_lab(tmp_path_factory):
    """JupyterLab with the wf_widgets server extension enabled (the config file pip installs)."""
    if not os.access("/usr/bin/chromium", os.X_OK):
        pytest.skip("/usr/bin/chromium is not installed (scripts/test installs Debian's chromium)")
    base = tmp_path_factory.mktemp("map-lab")
    root, home = base / "root", base / "home"
    root.mkdir()
    home.mkdir()
    old = os.environ.get("JUPYTER_CONFIG_PATH")
    os.environ["JUPYTER_CONFIG_PATH"] = str(ROOT / "jupyter-config")  # Lab copies os.environ for its process
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
def page(map_lab, browser):
    url = map_lab.write_notebook("map.ipynb", CELLS)
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    pg = context.new_page()
    errors: list[str] = []
    tiles: list = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("response", lambda response: tiles.append(response) if "/tiles/" in response.url else None)
    try:
        run_all_cells(pg, url, timeout_s=120)
        wait_js(pg, f"() => document.querySelector('{MAP} .leaflet-container')")
    except Exception:
        pg.screenshot(path=str(artifact("map-startup-failure.png")), full_page=True)
        copy_log(map_lab, "jupyterlab-map-startup-failure.log")
        raise
    pg.js_errors = errors
    pg.tile_responses = tiles
    yield pg
    context.close()


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


def test_draw_a_rectangle_and_launch_one_job_per_tile(page, map_lab):
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
        wait_js(page, f"() => {{ const s = document.querySelector('{MAP} .wf-map-selection');"
                      " return s && /\\d+ tiles? selected/.test(s.innerText); }", timeout_s=30)
        text = page.inner_text(f"{MAP} .wf-map-selection")
        n = int(text.split(" tile")[0].replace(",", "").split()[-1])
        assert 1 <= n <= 30, text
        # selected tiles are drawn in the grid layer
        wait_js(page, f"() => document.querySelectorAll('{MAP} path.leaflet-interactive[stroke=\"#e8590c\"]').length"
                      f" >= {n}", timeout_s=30)
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
        copy_log(map_lab, "jupyterlab-map.log")
        raise
    finally:
        page.screenshot(path=str(artifact("tile-map-jobs.png")), full_page=True)
