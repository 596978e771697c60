"""CatalogBrowser in JupyterLab with the wf_widgets server extension, in real Chromium.

One notebook: three small GeoTIFFs side by side (distinct dates) imported into ``org:mine``,
a product of another user that everyone may read and one only its owner may read, and a
CatalogBrowser with its own 400 px map. The test picks the product in the browser's
picker and checks what a user sees: the readable products only, one row per image with a
thumbnail the browser decoded, the footprints drawn on the map; then *Preview* and (after a
zoom, which redraws the DLTile grid) a click on a footprint each add a layer whose tiles come from our server (200 PNG responses from
``/wf-widgets/tiles/<layer>/``, ``<img>`` tiles decoded). Basemap tiles never load here (no
internet) and are ignored. Every wait polls a condition.
"""

from __future__ import annotations

import re

import pytest

from wf_widgets.widgets._map_grid import TILE_STYLE
from wf_widgets.widgets.catalog_browser import FOOTPRINT_STYLE, PREVIEWED_STYLE

from .conftest import artifact, copy_log, notebook_page, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

ROOT = ".wf-test-catalog"
PICKER = f"{ROOT} .wf-catalog-product select"
ROWS = f"{ROOT} .wf-catalog-image"
#: The footprints' paths (FOOTPRINT_STYLE, PREVIEWED_STYLE; the DLTile grid's are blue).
FOOTPRINTS = f"{ROOT} .leaflet-pane path.leaflet-interactive:is([stroke='{FOOTPRINT_STYLE['color']}'],"\
             f" [stroke='{PREVIEWED_STYLE['color']}'])"
GRID = f"{ROOT} .leaflet-pane path.leaflet-interactive[stroke='{TILE_STYLE['color']}']"
PREVIEWED = f"{ROOT} .leaflet-pane path.leaflet-interactive[stroke='{PREVIEWED_STYLE['color']}']"

CELLS = [
    "from pathlib import Path\n"
    "import numpy as np\n"
    "import rasterio\n"
    "from affine import Affine\n"
    "import wf_widgets as wf\n"
    "from wf_widgets.backend import Backend\n"
    "from wf_widgets.config import Settings\n"
    "folder = Path('scenes')\n"
    "folder.mkdir()\n"
    "yy, xx = np.mgrid[0:64, 0:64]\n"
    "for n in range(3):  # 640 m squares, 1 km apart (UTM 13N, near Santa Fe)\n"
    "    band = (500 + 40 * xx + 10 * yy + 700 * n).astype('uint16')\n"
    "    band[:8, :8] = 0  # a nodata corner\n"
    "    with rasterio.open(folder / f'scene_2024060{n + 1}.tif', 'w', driver='GTiff', width=64, height=64, count=1,\n"
    "                       dtype='uint16', crs='EPSG:32613', nodata=0,\n"
    "                       transform=Affine(10, 0, 405000 + 1000 * n, 0, -10, 3952000)) as ds:\n"
    "        ds.write(band[None])\n"
    "        ds.descriptions = ('elevation',)\n"
    "summary = wf.catalog.Product.import_files('org:mine', folder, acquired='scene_{date:%Y%m%d}.tif',\n"
    "                                          product_fields={'name': 'Mine', 'readers': ['group:public']})\n"
    "bob = Backend(Settings(home=wf.get_backend().settings.home, user='user:bob'), sweep=False)\n"
    "wf.catalog.Product(id='org:bobs_public', name='Shared', readers=['group:public'], store=bob.catalog).save()\n"
    "wf.catalog.Product(id='org:bobs_secret', name='Secret', store=bob.catalog).save()\n"
    "bob.close()\n"
    "summary",
    "browser = wf.widgets.CatalogBrowser()\n"
    "browser.map.layout.height = '400px'\n"
    "browser.add_class('wf-test-catalog')\n"
    "browser",
    "given = wf.widgets.CatalogBrowser(product_id='org:mine')  # listed before it is shown\n"
    "given.map.layout.height = '300px'\n"
    "given.add_class('wf-test-catalog-given')\n"
    "given",
    "print('ALL-CELLS-RAN')",
]


@pytest.fixture(scope="module")
def page(extension_lab, browser):
    with notebook_page(extension_lab, browser, "catalog", CELLS,
                       f"() => document.querySelector('{ROOT} .leaflet-container') && document.querySelector('{PICKER}')",
                       timeout_s=120, watch="/wf-widgets/tiles/") as pg:
        yield pg


def _layer_tiles(page) -> dict[str, int]:
    """Layer id -> number of 200 PNG tile responses from our server with some opaque pixels."""
    from ..map.conftest import decode_png

    layers: dict[str, int] = {}
    for response in list(page.tile_responses):
        layer = re.search(r"/wf-widgets/tiles/([0-9a-f]{32})/", response.url).group(1)
        layers.setdefault(layer, 0)
        if response.status == 200 and response.headers.get("content-type") == "image/png":
            if (decode_png(response.body())[..., 3] > 0).any():
                layers[layer] += 1
    return layers


def _wait_for_new_layer(page, known: set[str]) -> str:
    """Poll the network responses until tiles of a layer not in ``known`` came back as PNGs with pixels; its id."""
    for _ in range(120):
        fresh = {layer for layer, n in _layer_tiles(page).items() if n and layer not in known}
        if fresh:
            (layer,) = fresh
            return layer
        page.wait_for_timeout(500)  # polling interval of a condition on network responses
    raise AssertionError([(r.url, r.status) for r in page.tile_responses])


def test_pick_a_product_see_thumbnails_and_footprints_preview_by_button_and_by_click(page, extension_lab):
    try:
        page.locator(ROOT).scroll_into_view_if_needed()
        options = page.eval_on_selector(PICKER, "s => Array.from(s.options).map(o => o.textContent.replaceAll('\\u00a0', ' '))")
        assert sorted(options) == ["Mine (org:mine)", "Shared (org:bobs_public)"], options  # not bob's secret
        assert page.query_selector_all(ROWS) == [] and page.query_selector_all(FOOTPRINTS) == []

        page.select_option(PICKER, index=options.index("Mine (org:mine)"))  # (ipywidgets writes &nbsp; in labels)
        wait_js(page, f"() => document.querySelectorAll('{ROWS}').length === 3")
        info = page.inner_text(f"{ROOT} .wf-catalog-product-info")
        assert "3 image(s)" in info and "bands elevation" in info, info
        texts = [row.inner_text() for row in page.query_selector_all(ROWS)]
        assert [re.search(r"2024-06-0\d", t).group(0) for t in texts] == ["2024-06-03", "2024-06-02", "2024-06-01"]
        assert all("Preview" in t and "Export this" in t for t in texts), texts
        # the thumbnails: decoded by the browser, and shown
        wait_js(page, f"() => Array.from(document.querySelectorAll('{ROWS} img.wf-catalog-thumbnail'))"
                      ".filter(i => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0)"
                      ".length === 3", timeout_s=30)
        sizes = page.eval_on_selector_all(f"{ROWS} img.wf-catalog-thumbnail",
                                          "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
        assert all(32 <= w <= 64 and 32 <= h <= 64 for w, h in sizes), sizes
        # the footprints: three separate squares inside the map's view
        wait_js(page, f"() => document.querySelectorAll(\"{FOOTPRINTS}\").length === 3", timeout_s=30)
        view = page.locator(f"{ROOT} .leaflet-container").bounding_box()
        boxes = [p.bounding_box() for p in page.locator(FOOTPRINTS).all()]
        for box in boxes:
            assert 10 <= box["width"] <= view["width"] and 10 <= box["height"] <= view["height"], (box, view)
            assert view["x"] <= box["x"] and box["x"] + box["width"] <= view["x"] + view["width"], (box, view)
            assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"], (box, view)
        assert sorted(b["x"] for b in boxes)[1] > sorted(b["x"] + b["width"] for b in boxes)[0]  # apart
        page.locator(ROOT).screenshot(path=str(artifact("catalog-browser-listed.png")))

        # Preview (the first row: the newest image, scene_20240603, the east square)
        page.locator(f"{ROWS} button", has_text="Preview").first.click()
        first = _wait_for_new_layer(page, set())
        wait_js(page, f"() => Array.from(document.querySelectorAll('{ROOT} img.leaflet-tile')).some(i =>"
                      f" i.src.includes('/tiles/{first}/') && i.complete && i.naturalWidth > 0)", timeout_s=30)
        wait_js(page, f"() => document.querySelectorAll(\"{PREVIEWED}\").length === 1", timeout_s=30)
        east = max((p.bounding_box() for p in page.locator(FOOTPRINTS).all()), key=lambda b: b["x"])
        assert page.locator(PREVIEWED).bounding_box() == east
        page.locator(ROOT).screenshot(path=str(artifact("catalog-browser-preview.png")))

        # zoom in: the map draws the DLTile grid of the new view, after (over) the footprints
        page.evaluate(f"() => document.querySelectorAll(\"{GRID}\").forEach(p => p.dataset.old = '1')")
        page.click(f"{ROOT} .leaflet-control-zoom-in")
        wait_js(page, f"() => document.querySelectorAll(\"{GRID}\").length > 0"
                      f" && !document.querySelector(\"{GRID}[data-old]\")"
                      f" && Array.from(document.querySelectorAll(\"{FOOTPRINTS}\"))"
                      "    .every(p => p.getBoundingClientRect().width > 70)", timeout_s=30)
        # a click on the westmost footprint previews that image (scene_20240601), not the grid's tile under it
        west = min((p.bounding_box() for p in page.locator(FOOTPRINTS).all()), key=lambda b: b["x"])  # (scrolled)
        page.mouse.click(west["x"] + west["width"] / 2, west["y"] + west["height"] / 2)
        second = _wait_for_new_layer(page, {first})
        wait_js(page, f"() => Array.from(document.querySelectorAll('{ROOT} img.leaflet-tile')).some(i =>"
                      f" i.src.includes('/tiles/{second}/') && i.complete && i.naturalWidth > 0)", timeout_s=30)
        wait_js(page, f"() => {{ const p = document.querySelector(\"{PREVIEWED}\");"
                      f" return p && Math.abs(p.getBoundingClientRect().x - {west['x']}) < 2; }}", timeout_s=30)
        assert "No tile selected" in page.inner_text(f"{ROOT} .wf-map-summary")
        bad = [(r.url, r.status) for r in page.tile_responses if r.status != 200]
        assert not bad, bad
        assert page.inner_text(f"{ROOT} .wf-catalog-callback-error").strip() == ""
        assert not page.js_errors, page.js_errors
    except Exception:
        copy_log(extension_lab, "jupyterlab-catalog.log")
        raise
    finally:
        page.locator(ROOT).screenshot(path=str(artifact("catalog-browser.png")))


def test_footprints_listed_before_the_map_is_shown_are_drawn_above_the_grid(page):
    root = ".wf-test-catalog-given"
    page.locator(root).scroll_into_view_if_needed()
    try:
        wait_js(page, f"() => document.querySelectorAll('{root} .wf-catalog-image').length === 3", timeout_s=30)
        above = f"{root} .leaflet-shadow-pane path.leaflet-interactive[stroke='{FOOTPRINT_STYLE['color']}']"
        wait_js(page, f"() => document.querySelectorAll(\"{above}\").length === 3", timeout_s=30)
        assert page.query_selector_all(f"{root} .leaflet-overlay-pane path[stroke='{FOOTPRINT_STYLE['color']}']") == []
        assert not page.js_errors, page.js_errors
    finally:
        page.locator(root).screenshot(path=str(artifact("catalog-browser-given.png")))
