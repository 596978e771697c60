"""Provenance: every image the catalog destination writes records how it was made (STAC processing fields)."""

from __future__ import annotations

import datetime as _dt

import pytest

import wf_widgets as wf
from wf_widgets._context import current
from wf_widgets.delivery.catalog import source_products

TILE = (35.6870, -105.9378, 60, 64, 0)


def test_uploaded_image_records_job_graph_format_sources_version_and_time(make_product):
    make_product(data_type="Float32")
    composite = wf.ImageCollection.from_id("sentinel-1:GRD", "2020-01-01", "2020-02-01").mean(axis="images")
    first = wf.Image.from_id(wf.catalog.Product.get("sentinel-1:GRD").images()[0].id)
    value = composite + first.pick_bands(["vv", "vh"]) * 0
    image = wf.catalog.Image(name="made", product_id="org:my_product_id", extra_properties={"site": "sf",
                                                                                          "wf:job_id": "mine"})
    before = _dt.datetime.now(_dt.timezone.utc)
    job = value.compute(wf.DLTile.from_latlon(*TILE), destination=image, format={"type": "geotiff",
                                                                                 "compression": "deflate"},
                        block=False)
    saved = job.result(timeout=60)
    props = saved.extra_properties
    assert props["site"] == "sf" and props["wf:job_id"] == job.id  # provenance replaces a key of its own name
    assert props["wf:graph_hash"] == current().jobs.get(job.id)["graph"]["root"]
    assert props["wf:source_products"] == ["sentinel-1:GRD"]
    assert props["wf:format"] == {"type": "geotiff", "overviews": True, "compression": "deflate",
                                  "overview_resampler": "nearest"}
    assert props["processing:software"] == {"wf-widgets": wf.__version__}
    assert before <= _dt.datetime.fromisoformat(props["processing:datetime"]) <= _dt.datetime.now(_dt.timezone.utc)
    assert props["processing:lineage"].startswith(f"Computed by wf_widgets job {job.id} (graph ")
    assert "from sentinel-1:GRD" in props["processing:lineage"]

    card = saved._repr_html_()
    for text in ("lineage", f"Computed by wf_widgets job {job.id}", "graph hash", props["wf:graph_hash"],
                 "sources", "sentinel-1:GRD", "wf-widgets=" + wf.__version__, "compression=deflate"):
        assert text in card, text


@pytest.mark.parametrize("graph, want", [
    (None, []),
    ({"nodes": {"a": {"op": "ic_from_id", "args": [{"lit": "p:q"}], "kwargs": {}},
                "b": {"op": "image_from_id", "args": [], "kwargs": {"image_id": {"lit": "r:s:img"}}},
                "c": {"op": "mosaic", "args": [{"ref": "a"}], "kwargs": {}}}}, ["p:q", "r:s"]),
])
def test_source_products_of_stored_graphs(graph, want):
    assert source_products(graph) == want
