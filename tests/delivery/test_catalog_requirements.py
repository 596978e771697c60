"""Every requirement of the catalog destination fails before a job exists, with a message saying how to fix it."""

from __future__ import annotations

import pytest

import wf_widgets as wf
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.delivery import HANDLERS
from wf_widgets.errors import JobDestination, NotFound, PermissionDenied, ValidationError
from wf_widgets.outputs.results import ImageResult

PRODUCT = "org:my_product_id"


@pytest.fixture
def tile():
    return wf.DLTile.from_latlon(35.6870, -105.9378, 60, 64, 0)


def state(backend) -> dict:
    """Job rows, images and files outside the demo product."""
    store = backend.catalog
    images = [r["id"] for p in store.list_products() if p["id"] != "sentinel-1:GRD" for r in store.list_images(p["id"])]
    files = sorted(str(p.relative_to(store.files_root)) for p in store.files_root.rglob("*")
                   if p.is_file() and not p.relative_to(store.files_root).parts[0].startswith("sentinel-1"))
    return {"jobs": [j["id"] for j in backend.jobs.list(limit=1000)], "images": images, "files": files}


EMPTY = {"jobs": [], "images": [], "files": []}


def refused(backend, value, tile, error, match, destination=None, format="pyarrow", before=EMPTY):
    """compute() raises ``error`` matching ``match``, blocking or not, and writes nothing."""
    destination = destination or wf.catalog.Image(name="my_image", product_id=PRODUCT)
    for block in (True, False):
        with pytest.raises(error, match=match):
            value.compute(tile, destination=destination, format=format, block=block)
        assert state(backend) == before


def test_product_must_be_saved(demo_catalog, composite, tile):
    refused(demo_catalog, composite, tile, NotFound,
            r"Can't upload to product 'org:my_product_id': it does not exist \(it must be saved in the catalog\)\. "
            r"Create it with wf\.catalog\.Product\(id='org:my_product_id'\)\.save\(\) and add bands")
    wf.catalog.Product(id=PRODUCT)  # made, not saved: still refused
    refused(demo_catalog, composite, tile, ValidationError, r"it does not exist")


def test_user_must_be_allowed_to_write(demo_catalog, composite, tile):
    bob = Backend(Settings(home=demo_catalog.settings.home, user="user:bob"), sweep=False)
    try:
        wf.catalog.Product(id=PRODUCT, readers=["group:public"], store=bob.catalog).save()
        for name in ("vv", "vh"):
            wf.catalog.GenericBand(name=name, product_id=PRODUCT, data_type="Float64", nodata=0,
                                   store=bob.catalog).save()
    finally:
        bob.close()
    refused(demo_catalog, composite, tile, PermissionDenied,
            r"user:alice may not upload image 'my_image' to product 'org:my_product_id': write access is missing "
            r"\(an owner of the product can add 'user:alice' to its writers or owners\)")


def test_product_needs_bands(demo_catalog, composite, tile):
    wf.catalog.Product(id=PRODUCT).save()
    refused(demo_catalog, composite, tile, ValidationError,
            r"Product 'org:my_product_id' has no bands; add one band per band of the Image")


def test_bands_must_share_one_data_type(make_product, demo_catalog, composite, tile):
    make_product(data_type="UInt16", nodata=0, alpha=True)
    wf.catalog.Band.get(f"{PRODUCT}:alpha").delete()
    wf.catalog.MaskBand(name="alpha", product_id=PRODUCT, is_alpha=True).save()  # Byte
    refused(demo_catalog, composite, tile, ValidationError,
            r"All bands of product 'org:my_product_id' must have the same data type to upload an Image, but they "
            r"have 2 \(vv UInt16, vh UInt16, alpha Byte\); save every band \(the alpha band too\) with one data_type")


def test_product_needs_alpha_or_nodata_everywhere(make_product, demo_catalog, composite, tile):
    make_product(data_type="UInt16", nodata=None)
    refused(demo_catalog, composite, tile, ValidationError,
            r"Product 'org:my_product_id' needs an alpha band \(a MaskBand with is_alpha=True\) or a nodata value on "
            r"every band, to store the Image's mask; band\(s\) without nodata: vv, vh\. Set nodata on them")


def test_band_counts_must_match(make_product, demo_catalog, composite, tile):
    make_product(names=("vv", "vh", "extra"), data_type="Float64")
    refused(demo_catalog, composite, tile, ValidationError,
            r"The Image has 2 band\(s\) \(vv, vh\) but product 'org:my_product_id' has 3 \(vv, vh, extra\): an Image "
            r"uploaded to it needs 3 bands\. Pick or rename bands to match")


def test_band_counts_allow_for_the_generated_alpha_band_only(make_product, demo_catalog, composite, tile):
    make_product(data_type="Float64", nodata=None, alpha=True)
    refused(demo_catalog, composite.pick_bands("vv"), tile, ValidationError,
            r"The Image has 1 band\(s\) \(vv\) but product 'org:my_product_id' has 3 \(vv, vh, alpha\) \(the alpha "
            r"band 'alpha' is generated from the Image's mask when the Image lacks it\): an Image uploaded to it "
            r"needs 3, or 2 without 'alpha' bands")


def test_existing_image_needs_overwrite(make_product, demo_catalog, composite, tile):
    make_product(data_type="Float64")
    image = wf.catalog.Image(name="my_image", product_id=PRODUCT)
    composite.compute(tile, destination=image)
    before = state(demo_catalog)
    refused(demo_catalog, composite, tile, ValidationError,
            r"Image 'org:my_product_id:my_image' already exists; pass overwrite=True to replace it", before=before)


def test_jpeg_needs_a_byte_product(make_product, demo_catalog, composite, tile):
    make_product(data_type="UInt16")
    refused(demo_catalog, composite, tile, ValidationError,
            r"format.compression 'jpeg' needs 8-bit \(uint8\) data, but the data type of product 'org:my_product_id' is uint16",
            format={"type": "geotiff", "compression": "jpeg"})


def test_requirement_errors_name_their_field(make_product, demo_catalog, composite, tile):
    make_product(names=("vv",), data_type="Float64")
    with pytest.raises(ValidationError) as info:
        composite.compute(tile, destination=wf.catalog.Image(name="x", product_id=PRODUCT))
    assert info.value.field == "destination.image"


def test_band_count_unknown_before_running_is_checked_by_the_job(make_product, demo_catalog, composite, tile,
                                                                   monkeypatch):
    import wf_widgets.delivery.catalog as catalog_handler

    make_product(names=("vv", "vh", "extra"), data_type="Float64")
    monkeypatch.setattr(catalog_handler, "static_bands", lambda value, backend=None: None)
    job = composite.compute(tile, destination=wf.catalog.Image(name="my_image", product_id=PRODUCT), block=False)
    with pytest.raises(JobDestination):
        job.wait(60)
    assert (job.stage, job._row["error_code"]) == ("FAILED", "DESTINATION")
    with pytest.raises(JobDestination, match=r"The Image has 2 band\(s\) \(vv, vh\) but product 'org:my_product_id' "
                                             r"has 3 .* Nothing was uploaded\."):
        job.result()
    assert state(demo_catalog) == {"jobs": [job.id], "images": [], "files": []}


def test_deliver_checks_the_requirements_again(make_product, demo_catalog, composite, tile):
    """A product changed between compute() and the upload fails the job, not the catalog."""
    make_product(data_type="Float64")
    result = composite.compute(tile)
    job = {"id": "0" * 48, "format": {"type": "geotiff", "overviews": True, "compression": "lzw",
                                      "overview_resampler": "nearest"},
           "destination": {"type": "catalog", "image": {"id": f"{PRODUCT}:late", "name": "late", "product_id": PRODUCT},
                           "overwrite": False, "rescale": False, "change_dtype": False}}
    wf.catalog.Band.get(f"{PRODUCT}:vh").delete()
    with pytest.raises(JobDestination, match=r"The Image has 2 band\(s\) .* has 1 \(vv\)"):
        HANDLERS["catalog"].deliver(demo_catalog, job, result)
    wf.catalog.Product.get(PRODUCT).delete(cascade=True)
    with pytest.raises(JobDestination, match=r"it does not exist"):
        HANDLERS["catalog"].deliver(demo_catalog, job, ImageResult(result.ndarray, bandinfo=result.bandinfo,
                                                                   geocontext=result.geocontext))
    assert {k: v for k, v in state(demo_catalog).items() if k != "jobs"} == {"images": [], "files": []}


#: 100 characters, 300 bytes in UTF-8.
LONG = "名" * 100


@pytest.mark.parametrize("image, field", [
    ({"name": LONG, "product_id": PRODUCT}, "name"),
    ({"name": "my_image", "product_id": "org:" + "é" * 148}, "product_id"),
    ({"name": "my_image", "product_id": "org:" + "p" * 296}, "product_id"),
])
def test_names_too_long_for_files_are_refused_before_a_job_exists(make_product, demo_catalog, composite, tile,
                                                                  image, field):
    make_product(data_type="Float64")
    with pytest.raises(ValidationError, match=rf"{field} is too long: 300 bytes in UTF-8 \(\d+ characters\); "
                                              r"the limit is 255 bytes") as info:
        composite.compute(tile, destination={"type": "catalog", "image": image}, block=False)
    assert info.value.field == field
    assert state(demo_catalog) == EMPTY
    with pytest.raises(ValidationError, match=rf"{field} is too long: 300 bytes"):  # a hand-made normal form
        HANDLERS["catalog"].preflight({"type": "catalog", "image": {"id": f"{image['product_id']}:{image['name']}",
                                                                    **image}, "overwrite": False},
                                      {"type": "geotiff"}, composite, demo_catalog)


def test_an_image_saved_with_a_long_name_by_an_earlier_version_is_refused(make_product, demo_catalog, composite, tile):
    make_product(data_type="Float64")
    legacy = wf.catalog.Image(name="x", product_id=PRODUCT)
    legacy._values["name"] = LONG  # stored without the byte limit, as earlier versions did
    legacy.save()
    before = state(demo_catalog)
    refused(demo_catalog, composite, tile, ValidationError, r"name is too long: 300 bytes",
            destination=wf.catalog.Image.get(f"{PRODUCT}:{LONG}"), before=before)
