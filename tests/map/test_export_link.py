"""ExportForm(value, geoctx=tile_map): one job per selected tile, on one JobsBoard."""

from __future__ import annotations

import shapely

import wf_widgets as wf
from wf_widgets.geo import DLTile
from wf_widgets.widgets import ExportForm, TileMap

from .conftest import point
from .test_tile_map import draw, rectangle

CENTER = point(100, 100)[::-1]


def test_the_linked_form_launches_one_job_per_selected_tile(known, map_backend):
    m = TileMap(center=CENTER, zoom=14, tile_size=64, tile_resolution=10.0)
    form = ExportForm(known, geoctx=m)
    assert not form.valid and "No tile selected" in form.error
    west, north = point(10, 10)
    east, south = point(190, 190)
    draw(m, rectangle(west, south, east, north))
    keys = m.selected_keys
    assert keys == DLTile.from_shape(shapely.box(west, south, east, north), 10.0, 64, 0, keys_only=True)
    assert 4 <= len(keys) <= 16
    assert form.valid and form.compute_button.description == f"Compute ({len(keys)} jobs)"
    assert "for tile in m.selected_tiles" in form.code
    assert form.estimate["jobs"] == len(keys) and form.estimate["pixels_per_job"] == 64 * 64
    jobs = form.compute()
    assert [j.label for j in jobs] == keys
    assert form.board.jobs == jobs
    for job in jobs:
        job.wait(60)
    form.board.refresh()
    assert form.board.counts == {"SUCCEEDED": len(keys), "total": len(keys)}
    assert [row["label"] for row in form.board.rows] == keys
    # the selection changes: the form follows
    m.clear_selection()
    assert not form.valid and "No tile selected" in form.error
    form.close()
    m.close()


def test_catalog_image_names_come_from_the_tile_keys(known, map_backend):
    out = wf.catalog.Product(id="org:out", name="out").save()
    wf.catalog.GenericBand(name="b1", product_id=out.id, data_type="Float64", nodata=-1, band_index=0).save()
    m = TileMap(center=CENTER, zoom=14, tile_size=64)
    form = ExportForm(known, geoctx=m)
    form.destination_dropdown.value = "catalog"
    form.product_picker.value = "org:out"
    west, north = point(40, 40)
    east, south = point(120, 120)
    draw(m, rectangle(west, south, east, north))
    assert len(m.selected_keys) >= 2 and form.valid, form.error
    jobs = form.compute()
    names = [k.replace(":", "_") for k in m.selected_keys]
    for job in jobs:
        job.wait(60)
    assert all(j.stage == "SUCCEEDED" for j in jobs), [j.error for j in jobs]
    assert sorted(i.name for i in wf.catalog.Product.get("org:out").images()) == sorted(names)
    form.close()
    m.close()


def test_the_map_and_the_linked_form_estimate_the_same_size(known, map_backend):
    m = TileMap(center=CENTER, zoom=14)  # 512 px tiles
    m.preview(known, scales=(0, 1))  # one band on the map
    two = known.concat_bands(known)
    m.select([DLTile.from_latlon(35.6870, -105.9378, 10, 512, 0)])
    assert "262,144 pixels, about 2.0 MiB as float64 (1 band)" in m.selection_line.value
    form = ExportForm(two, geoctx=m)  # two bands exported: the map now estimates those
    size = "about 4.0 MiB as float64 (2 bands)"
    assert size in form.estimate_line.value and size in m.selection_line.value
    m.select([DLTile.from_latlon(35.6870, -105.9378 + 0.1, 10, 512, 0)])
    size = "about 8.0 MiB as float64 (2 bands)"
    assert size in form.estimate_line.value and size in m.selection_line.value
    assert m.summary == "2 tiles selected · 8.0 MiB"  # the collapsed line: the same figure
    form.close()  # the form is gone: back to the previewed value
    assert "about 4.0 MiB as float64 (1 band)" in m.selection_line.value
    m.close()
