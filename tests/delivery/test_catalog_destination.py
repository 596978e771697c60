"""The catalog destination end to end: shorthand, options, GeoTIFF options, results, the spec's example."""

from __future__ import annotations

import datetime as _dt
import re
import time

import numpy as np
import pytest
import rasterio

import wf_widgets as wf
from wf_widgets.delivery import HANDLERS
from wf_widgets.delivery.catalog import CatalogHandler
from wf_widgets.errors import ValidationError
from wf_widgets.outputs.normalize import normalize

SPEC_TILE = (35.6870, -105.9378, 10, 1024, 0)


def rendered(text: str) -> str:
    """What a terminal shows: each line as redrawn after its last carriage return."""
    return "\n".join(line.rsplit("\r", 1)[-1].rstrip() for line in text.split("\n"))


# -- shorthand, dict form, formats ------------------------------------------------------------------
def test_shorthand_and_dict_normalise_and_default_format_becomes_geotiff():
    image = wf.catalog.Image(name="my_image", product_id="org:my_product_id")
    dest, fmt = normalize(image, "pyarrow", "Image")
    assert dest == {"type": "catalog", "image": {"id": "org:my_product_id:my_image", "name": "my_image",
                                                 "product_id": "org:my_product_id"},
                    "overwrite": False, "rescale": False, "change_dtype": False}
    assert fmt == {"type": "geotiff", "overviews": True, "compression": "lzw", "overview_resampler": "nearest"}
    dest2, fmt2 = normalize({"type": "Catalog", "image": image, "overwrite": True, "rescale": True,
                                       "change_dtype": True}, {"type": "geotiff", "compression": "ZSTD"}, "Image")
    assert dest2 == {**dest, "overwrite": True, "rescale": True, "change_dtype": True}
    assert fmt2["compression"] == "zstd"
    with pytest.raises(ValidationError, match=r"Format 'json' can't be used here: Catalog accepts only GeoTIFF"):
        normalize(image, "json", "Image")
    with pytest.raises(ValidationError, match=r"The catalog destination can only be used with an Image result"):
        normalize(image, "geotiff", "Int")
    assert isinstance(HANDLERS["catalog"], CatalogHandler)


def test_default_format_uploads_a_geotiff(make_product, composite, small_tile):
    make_product(data_type="Float64")
    image = wf.catalog.Image(name="my_image", product_id="org:my_product_id")
    job = composite.compute(small_tile, destination=image, block=False)
    assert job.format["type"] == "geotiff"
    saved = job.result(timeout=60)
    with rasterio.open(saved.file_path) as src:
        assert src.driver == "GTiff" and src.count == 2


# -- what compute() and Job.result() return ---------------------------------------------------------
def test_compute_and_job_result_return_the_saved_catalog_image(demo_catalog, make_product, composite, small_tile):
    make_product(data_type="Float32")
    image = wf.catalog.Image(name="my_image", product_id="org:my_product_id", extra_properties={"site": "sf"})
    saved = composite.compute(small_tile, destination=image)
    assert isinstance(saved, wf.catalog.Image) and saved.state == "saved"
    assert saved == wf.catalog.Image.get("org:my_product_id:my_image")
    assert saved.created is not None and saved.extra_properties["site"] == "sf"
    assert saved.extra_properties["wf:source_products"] == ["sentinel-1:GRD"]  # and the provenance
    assert (saved.x_pixels, saved.y_pixels, saved.cs_code) == (64, 64, small_tile.crs)
    assert tuple(saved.geotrans) == tuple(small_tile.geotrans)
    assert image.state == "unsaved"  # the Image given is a description; the saved one is returned

    job = composite.compute(small_tile, destination={"type": "catalog", "image": image, "overwrite": True},
                            block=False)
    again = wf.Job.get(job.id).result(timeout=60)
    assert again.id == "org:my_product_id:my_image" and again.created >= saved.created
    assert job.refresh()._row["result_ref"]["id"] == again.id
    assert re.fullmatch(r"Image: my_image\n  id: org:my_product_id:my_image\n  product: org:my_product_id\n"
                        r"  created: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}", repr(again))


def test_result_of_a_deleted_image_says_so(make_product, composite, small_tile):
    make_product(data_type="Float64")
    image = wf.catalog.Image(name="gone", product_id="org:my_product_id")
    job = composite.compute(small_tile, destination=image, block=False)
    job.result(timeout=60).delete()
    with pytest.raises(ValidationError, match=r"Image 'org:my_product_id:gone', uploaded by job [0-9a-f]{48}, has "
                                              r"since been deleted"):
        job.result()


# -- the spec's example, printed ---------------------------------------------------------------------
def test_spec_example_prints_job_progress_and_the_image(make_demo_catalog, capsys):
    noon = _dt.datetime(2020, 1, 1, 12, 0, 0, tzinfo=_dt.timezone.utc).timestamp()
    make_demo_catalog(now_offset_s=noon - time.time())
    # "Assume the product org:my_product_id already has the same bands as composite (vv and vh), and the bands
    # have nodata values set": the composite holds float dB values, so a float product takes them as they are.
    product = wf.catalog.Product(id="org:my_product_id").save()
    for name in ("vv", "vh"):
        wf.catalog.MicrowaveBand(name=name, product_id=product.id, data_type="Float32", nodata=-9999).save()

    import wf_widgets as dl  # the spec's two imports
    composite = (
        wf.ImageCollection.from_id("sentinel-1:GRD", "2020-01-01", "2020-05-01")
        .mean(axis="images")
    )
    image = dl.catalog.Image(name="my_image", product_id="org:my_product_id")
    tile = dl.scenes.DLTile.from_latlon(*SPEC_TILE)
    print(repr(composite.compute(tile, destination=image, progress_bar=True)))
    out = rendered(capsys.readouterr().out)
    assert re.fullmatch(
        r"Job ID: [0-9a-f]{48}\n"
        r"\[######\] \| Steps: (\d+)/\1 \| Stage: SUCCEEDED\n"
        r"Image: my_image\n"
        r"  id: org:my_product_id:my_image\n"
        r"  product: org:my_product_id\n"
        r"  created: Wed Jan  1 12:00:0\d 2020\n", out), out

    # "Or, if you need to set options:"
    saved = composite.compute(
        tile,
        destination={
            "type": "catalog",
            "image": image,
            "overwrite": True,
            "rescale": True,
            "change_dtype": True,
        },
    )
    assert saved.id == "org:my_product_id:my_image" and saved.x_pixels == 1024
    assert [i.id for i in product.images()] == ["org:my_product_id:my_image"]


# -- GeoTIFF options are what is stored --------------------------------------------------------------
@pytest.mark.parametrize("fmt, compression, factors", [
    ({"type": "geotiff", "compression": "deflate", "overview_resampler": "average"}, "DEFLATE", [2]),
    ({"type": "geotiff", "compression": "zstd", "overviews": False}, "ZSTD", []),
    ({"type": "geotiff", "compression": "none"}, None, [2]),
])
def test_geotiff_options_shape_the_stored_cog(demo_catalog, make_product, fmt, compression, factors):
    make_product(data_type="UInt16", nodata=0, data_range=(0, 10000), physical_range=(-50.0, 10.0))
    scene = demo_catalog.catalog.list_images("sentinel-1:GRD")[0]["id"]
    value = wf.Image.from_id(scene)
    tile = wf.DLTile.from_latlon(35.6870, -105.9378, 10, 600, 0)
    image = wf.catalog.Image(name="opts", product_id="org:my_product_id")
    saved = value.compute(tile, destination={"type": "catalog", "image": image, "rescale": True,
                                             "change_dtype": True}, format=fmt)
    with rasterio.open(saved.file_path) as src:
        assert src.tags(ns="IMAGE_STRUCTURE").get("COMPRESSION") == compression
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.overviews(1) == factors and src.block_shapes[0] == (512, 512)
        assert src.dtypes == ("uint16", "uint16") and src.nodata == 0
        if factors:
            full = src.read(1).astype(float)
            overview = src.read(1, out_shape=(300, 300)).astype(float)
            blocks = full.reshape(300, 2, 300, 2)
            if fmt.get("overview_resampler") == "average":
                inner = (blocks != 0).all(axis=(1, 3))
                assert np.abs(overview - blocks.mean(axis=(1, 3)))[inner].max() <= 1.0
            else:
                assert np.array_equal(overview, blocks[:, 0, :, 0])


# -- reading back -------------------------------------------------------------------------------------
def test_uploaded_image_reads_back_as_computed(make_product, composite):
    make_product(data_type="UInt16", nodata=0, data_range=(0, 10000), physical_range=(-50.0, 10.0))
    tile = wf.DLTile.from_latlon(35.6870, -105.9378, 20, 128, 0)
    value = composite.mask(composite > -12.0)  # different masks in vv and vh
    image = wf.catalog.Image(name="back", product_id="org:my_product_id")
    value.compute(tile, destination={"type": "catalog", "image": image, "rescale": True, "change_dtype": True})
    computed = value.compute(tile)
    back = wf.ImageCollection.from_id("org:my_product_id").mosaic().compute(tile)
    assert list(back.bandinfo) == ["vv", "vh"]
    assert np.array_equal(np.ma.getmaskarray(back.ndarray), np.ma.getmaskarray(computed.ndarray))
    assert np.ma.getmaskarray(computed.ndarray).any() and not np.ma.getmaskarray(computed.ndarray).all()
    step_db = 60.0 / 10000  # one UInt16 count in dB
    assert np.ma.abs(back.ndarray - computed.ndarray).max() <= step_db / 2 + 1e-9


# -- retries ----------------------------------------------------------------------------------------
def test_a_retry_replaces_the_image_its_failed_attempt_uploaded(demo_catalog, make_product, composite, small_tile,
                                                                monkeypatch):
    """An attempt that fails after its upload (lost before it recorded its end) is retried: the retry
    overwrites that image rather than failing on it (attempts are idempotent), with overwrite=False."""
    demo_catalog.settings.retry_backoff_s = 0.01
    make_product(data_type="Float64")
    deliver = CatalogHandler.deliver
    calls = []

    def upload_then_fail(self, backend, job, value):
        calls.append(job["attempts"])
        stored = deliver(self, backend, job, value)
        if len(calls) == 1:
            raise wf.errors.JobTransient("the worker lost its database connection after the upload")
        return stored

    monkeypatch.setattr(CatalogHandler, "deliver", upload_then_fail)
    image = wf.catalog.Image(name="my_image", product_id="org:my_product_id")
    job = composite.compute(small_tile, destination=image, block=False, retries=1)
    saved = job.result(timeout=60)
    assert calls == [1, 2] and job.attempts == 2 and job.attempt_codes == ["TRANSIENT", "NONE"]
    assert saved.id == "org:my_product_id:my_image" and job.destination["overwrite"] is False

