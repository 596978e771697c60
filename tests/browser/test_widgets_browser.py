"""The export form and the jobs board in JupyterLab, in real Chromium.

One notebook, run once: a form for ``wf.Int(1) + 1``, a board with a job launched from
code, a form for an Image value, and a form whose format is then set from code (its view
must follow). Every wait polls a condition.
"""

from __future__ import annotations

import urllib.request

import pytest

from .conftest import artifact, notebook_page, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

FORM = ".wf-export-form:not(.wf-image-form):not(.wf-written-form)"
IMAGE_FORM = ".wf-image-form"
WRITTEN_FORM = ".wf-written-form"
BOARD = ".wf-standalone-board"

CELLS = [
    "import wf_widgets as wf\ntwo = wf.Int(1) + 1\nform = wf.widgets.ExportForm(two)\nform",
    "job = two.compute(format='json', block=False)\nboard = wf.widgets.JobsBoard([job])\n"
    "board.add_class('wf-standalone-board')\nboard",
    "product = wf.catalog.Product(id='org:browser', name='browser')\n"
    "product.save()\n"
    "wf.catalog.SpectralBand(name='red', product_id=product.id, data_type='Float64', band_index=0).save()\n"
    "composite = wf.ImageCollection.from_id(product.id, '2020-01-01', '2020-05-01').mean(axis='images')\n"
    "tile = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 256, 0)\n"
    "image_form = wf.widgets.ExportForm(composite, tile)\n"
    "image_form.add_class('wf-image-form')\n"
    "image_form",
    "written = wf.widgets.ExportForm(two)\nwritten.add_class('wf-written-form')\nwritten.show_code = True\nwritten",
    "written.format = {'type': 'json'}  # once the form is on the page: its dropdown must follow",
    "print('ALL-CELLS-RAN')",
]


@pytest.fixture(scope="module")
def page(lab, browser):
    with notebook_page(lab, browser, "widgets", CELLS,
                       f"() => document.querySelector('{FORM} .wf-export-format select')") as pg:
        yield pg


def test_export_form_download_json_and_board(page, lab):
    try:
        page.select_option(f"{FORM} .wf-export-destination select", label="Download")
        page.select_option(f"{FORM} .wf-export-format select", label="JSON")
        wait_js(page, f"() => !document.querySelector('{FORM} button.wf-export-compute').disabled")
        page.click(f"{FORM} button.wf-export-compute")
        wait_js(page, f"() => document.querySelector('{FORM} .wf-jobs-row[data-stage=\"SUCCEEDED\"]')")
        link = page.get_attribute(f"{FORM} .wf-jobs-row a.wf-jobs-download", "href")
        assert link and "/results/" in link and "signature=" in link
        assert "expires in" in page.inner_text(f"{FORM} .wf-jobs-row .wf-jobs-expiry")
        assert "SUCCEEDED 1" in page.inner_text(f"{FORM} .wf-jobs-counts")
        with urllib.request.urlopen(link, timeout=10) as response:  # the kernel-thread server serves it
            assert response.read() == b"2"
        # the board built in code followed its job too
        wait_js(page, f"() => document.querySelector('{BOARD} .wf-jobs-row[data-stage=\"SUCCEEDED\"]')")
        assert page.query_selector(f"{BOARD} a.wf-jobs-download") is not None
        assert not page.js_errors, page.js_errors
    finally:
        page.screenshot(path=str(artifact("export-form-and-jobs-board.png")), full_page=True)
        page.locator(FORM).screenshot(path=str(artifact("export-form.png")))


def test_catalog_destination_offers_only_geotiff(page):
    assert page.query_selector(IMAGE_FORM) is not None, page.inner_text(".jp-Notebook")[-300:]
    options = f"() => Array.from(document.querySelectorAll('{IMAGE_FORM} .wf-export-format option'))" \
              ".map(o => o.textContent)"
    assert "GeoTIFF" in page.evaluate(options) and "JSON" in page.evaluate(options)
    page.select_option(f"{IMAGE_FORM} .wf-export-destination select", label="Catalog")
    wait_js(page, f"() => {{ const o = ({options})(); return o.length === 1 && o[0] === 'GeoTIFF'; }}")
    assert "Catalog accepts only GeoTIFF" in page.inner_text(f"{IMAGE_FORM} .wf-export-excluded-formats")
    # no product chosen; the product the value doesn't fit is listed with the reason
    picker = f"{IMAGE_FORM} .wf-export-product select"
    wait_js(page, f"() => {{ const s = document.querySelector('{picker}');"
                  " return s && s.options[s.selectedIndex].text.replace(/\\u00a0/g, ' ') === '(choose a product)'; }")
    assert "org:browser: Product 'org:browser' needs an alpha band" in \
        page.inner_text(f"{IMAGE_FORM} .wf-export-excluded-products")
    assert "No catalog product you may write to takes this value" in \
        page.inner_text(f"{IMAGE_FORM} .wf-export-validation")
    page.locator(IMAGE_FORM).screenshot(path=str(artifact("export-form-catalog.png")))


def test_a_format_written_from_code_shows_in_the_form(page):
    select = f"{WRITTEN_FORM} .wf-export-format select"
    try:
        wait_js(page, f"() => {{ const s = document.querySelector('{select}');"
                      " return s && s.options[s.selectedIndex].text === 'JSON'; }")
        code = page.inner_text(f"{WRITTEN_FORM} .wf-export-code")
        assert code.strip() == 'two.compute(destination={"type": "download"}, format={"type": "json"})'
        assert "Ready: 1 job to launch" in page.inner_text(f"{WRITTEN_FORM} .wf-export-validation")
        assert page.query_selector(f"{WRITTEN_FORM} .wf-export-option-compression") is None  # JSON has no options
    finally:
        page.locator(WRITTEN_FORM).screenshot(path=str(artifact("export-form-written.png")))
