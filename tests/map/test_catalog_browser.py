"""CatalogBrowser at state level: products you may read, images with thumbnails and footprints, preview, export."""

from __future__ import annotations

import ipyleaflet
import numpy as np
import pytest
import rasterio
import shapely
from shapely.geometry import shape

import wf_widgets as wf
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.server.testing import fetch
from wf_widgets.widgets import CatalogBrowser, ExportForm, TileMap
from wf_widgets.widgets.catalog_browser import FOOTPRINT_STYLE, PREVIEWED_STYLE

from .conftest import EAST, IMAGE, ORIGIN, PRODUCT, RES, SIZE, WEST, decode_png, pixel_at, point, utm_to_lonlat


@pytest.fixture
def browser(known, map_backend):
    b = CatalogBrowser()
    yield b
    b.close()


def test_lists_readable_products_and_their_images_with_thumbnails_and_footprints(browser, map_backend, tmp_path):
    bob = Backend(Settings(home=map_backend.settings.home, user="user:bob"), sweep=False)
    try:
        wf.catalog.Product(id="org:bobs_secret", store=bob.catalog).save()  # bob's, private
    finally:
        bob.close()
    browser.refresh()
    assert [v for _, v in browser.product_picker.options] == [PRODUCT]  # alice can't read bob's product
    assert browser.product_id == "" and browser.image_ids == []

    browser.product_picker.value = PRODUCT  # what picking it does
    assert browser.product_id == PRODUCT and browser.image_ids == [IMAGE]
    assert "1 image(s)" in browser.product_info.value and "bands b1" in browser.product_info.value
    (row,) = browser.image_list.children
    thumb, label, preview, export = row.children
    assert "img" in label.value and "2020-02-01" in label.value
    pixels = decode_png(thumb.value)
    h, w = pixels.shape[:2]
    assert 32 <= h <= 64 and 32 <= w <= 64
    assert pixels[h // 10, w // 10, 0] < pixels[h // 10, w * 9 // 10, 0]  # the west half (1000) darker than the east
    assert pixels[h * 9 // 10, w // 10, 3] == 0  # the nodata block is transparent
    (feature,) = browser.footprints.data["features"]
    assert feature["properties"]["id"] == IMAGE
    x0, y0, side = ORIGIN[0], ORIGIN[1], SIZE * RES
    corners = shapely.Polygon([utm_to_lonlat(x, y) for x, y in ((x0, y0), (x0 + side, y0), (x0 + side, y0 - side),
                                                                (x0, y0 - side))])
    footprint = shape(feature["geometry"])
    assert footprint.symmetric_difference(corners).area < 1e-3 * corners.area
    assert browser.footprints in browser.map.layers and browser.map in browser.children
    # The map shows the footprints, without a frontend or an event loop (ipyleaflet's fit_bounds needs both).
    assert footprint.contains(shapely.Point(browser.map.center[1], browser.map.center[0]))
    assert 10 <= browser.map.zoom <= 18


def drawn_styles(browser) -> dict[str, dict]:
    """Image id -> the style the browser gives its footprint (ipyleaflet's view: the feature's style
    updated by the layer's ``style``)."""
    return {f["properties"]["id"]: {**f["properties"].get("style", {}), **browser.footprints.style}
            for f in browser.footprints.data["features"]}


def test_preview_by_button_and_by_footprint_click(browser, map_backend):
    browser.product_id = PRODUCT
    _, _, preview_button, _ = browser.image_list.children[0].children
    preview_button.click()
    assert browser.callback_error == "" and browser.previewed == IMAGE
    layer = browser.map.previews["img"]
    assert isinstance(layer.leaflet, ipyleaflet.TileLayer) and layer.leaflet in browser.map.layers
    z, x, y, col, row = pixel_at(*point(150, 50))
    r = fetch(layer.leaflet.url.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y)))
    assert r.status == 200 and r.headers["Content-Type"] == "image/png"
    assert decode_png(r.body)[row, col, 3] == 255  # an east pixel of the image, drawn
    assert drawn_styles(browser)[IMAGE]["color"] == PREVIEWED_STYLE["color"] == "#ff7800"
    browser.show_product(PRODUCT)  # listed again: nothing previewed
    assert drawn_styles(browser)[IMAGE] == FOOTPRINT_STYLE

    browser.map.remove_preview("img")
    browser.previewed = ""
    feature = browser.footprints.data["features"][0]
    browser.footprints._handle_mouse_events(None, {"event": "click", "feature": feature,
                                                   "properties": feature["properties"], "id": None,
                                                   "coordinates": [0, 0]}, [])
    assert browser.previewed == IMAGE and "img" in browser.map.previews


def test_export_this_opens_an_export_form_over_the_selected_tiles(browser, map_backend):
    browser.product_id = PRODUCT
    _, _, _, export_button = browser.image_list.children[0].children
    export_button.click()
    form = browser.export_form
    assert isinstance(form, ExportForm) and form in browser.export_area.children
    assert form.value.kind == "Image" and form.value_name == "image"
    tile = wf.DLTile.from_latlon(*point(100, 100)[::-1], RES, 64, 0)
    browser.map.select([tile.key])
    form.destination_dropdown.value = "download"
    form.format_dropdown.value = "geotiff"
    assert form.valid, form.error
    (job,) = form.compute()
    assert job.wait(60).stage == "SUCCEEDED"
    with rasterio.MemoryFile(job.result()) as memfile, memfile.open() as ds:
        got = ds.read(masked=True)
    want = wf.Image.from_id(IMAGE).compute(tile).ndarray
    assert np.array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(want)) and np.ma.allclose(got, want)
    assert set(np.unique(got.compressed())) == {WEST, EAST}


def test_a_browser_on_a_given_map_and_errors_shown(known, map_backend):
    m = TileMap()
    b = CatalogBrowser(m, product_id=PRODUCT)
    try:
        assert b.map is m and m not in b.children and b.image_ids == [IMAGE]
        b._on_preview("org:known:missing")
        assert "Unknown image id 'org:known:missing'" in b.callback_error
        assert "Unknown image id" in b.error_line.value
        with pytest.raises(TypeError, match="unexpected keyword argument\\(s\\) 'product'"):
            CatalogBrowser(m, product="x")
    finally:
        b.close()
        m.close()
