"""The catalog as a STAC API (``stac/``), read by pystac-client and odc-stac, on the three mounts.

The home is a copy of the demo home (``sentinel-1:GRD``, public read, 20 scenes every 6 days
from 2020-01-03) plus ``demo:private``, a product of ``user:demo`` nobody else may read.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from urllib.parse import quote

import numpy as np
import odc.stac
import pystac_client
import pytest
import shapely.geometry
from affine import Affine
from odc.geo.geobox import GeoBox
from pyproj import Transformer

import wf_widgets as wf
from wf_widgets.backend import Backend
from wf_widgets.config import Settings
from wf_widgets.demo_data import DAYS_BETWEEN, FIRST_DATE, N_SCENES, PRODUCT_ID
from wf_widgets.server import ensure_thread_server, stop_thread_server
from wf_widgets.server.testing import fetch
from wf_widgets.server.thread import ThreadServer

from .._jupyter import jupyter_server
from .._stac import stac_errors
from .conftest import every_store
from .test_standalone import Serve

PRIVATE = "demo:private"
TOKEN = "wf-stac-token"


def _link_or_copy(src: str, dst: str) -> None:
    if src.endswith(".tif"):
        try:
            os.link(src, dst)
            return
        except OSError:
            pass
    shutil.copy2(src, dst)


@pytest.fixture(scope="module")
def stac_home(demo_home, tmp_path_factory):
    """A copy of the demo home with the private product ``demo:private`` (one image) of ``user:demo``."""
    home = tmp_path_factory.mktemp("stac-home")
    shutil.copytree(demo_home / "catalog", home / "catalog", copy_function=_link_or_copy)
    b = Backend(Settings(home=home, user="user:demo"), sweep=False)
    previous = wf.set_backend(b)
    try:
        wf.catalog.Product(id=PRIVATE, name="Private").save()
        wf.catalog.SpectralBand(name="red", product_id=PRIVATE, data_type="UInt16", nodata=0, band_index=0).save()
        image = wf.catalog.Image(name="secret", product_id=PRIVATE, cs_code="EPSG:32613",
                                 geotrans=(404000.0, 10.0, 0.0, 3952000.0, 0.0, -10.0),
                                 acquired=_dt.datetime(2020, 1, 15, tzinfo=_dt.timezone.utc))
        image.upload_ndarray(np.full((1, 32, 32), 7, np.uint16))
    finally:
        wf.set_backend(previous)
        b.close()
    return home


@pytest.fixture
def reader(stac_home):
    """``user:bob`` (no right on the private product) on the STAC home, installed as the default."""
    b = Backend(Settings(home=stac_home, user="user:bob"), sweep=False)
    previous = wf.set_backend(b)
    yield b
    stop_thread_server(b)
    wf.set_backend(previous)
    b.close()


@pytest.fixture
def standalone(reader):
    """Base URL of the standalone mount's app (kind ``"standalone"``) serving the STAC home."""
    server = ThreadServer(reader, register=False, kind="standalone")
    yield server.url
    server.stop()


def get_json(url: str, **kw) -> tuple[int, dict]:
    r = fetch(url, **kw)
    return r.status, json.loads(r.body)


def scene_date(i: int) -> _dt.datetime:
    return FIRST_DATE + _dt.timedelta(days=DAYS_BETWEEN * i)


def corners_footprint(image: wf.catalog.Image) -> shapely.geometry.Polygon:
    """The image's footprint from its four corners, computed here with pyproj."""
    x0, a, _, y0, _, e = image.geotrans
    xs = [x0, x0 + a * image.x_pixels, x0 + a * image.x_pixels, x0]
    ys = [y0, y0, y0 + e * image.y_pixels, y0 + e * image.y_pixels]
    lons, lats = Transformer.from_crs(image.cs_code, "EPSG:4326", always_xy=True).transform(xs, ys)
    return shapely.geometry.Polygon(zip(lons, lats))


# -- the API, read by pystac-client ----------------------------------------------------------------
def test_landing_page_collections_and_conformance(standalone):
    client = pystac_client.Client.open(f"{standalone}/stac/")
    assert client.id == "wf-widgets"
    assert client.conforms_to("ITEM_SEARCH") and client.conforms_to("COLLECTIONS")
    assert [c.id for c in client.get_collections()] == [PRODUCT_ID]  # the private product is not listed
    rels = {link["rel"] for link in get_json(f"{standalone}/stac/")[1]["links"]}
    assert {"self", "root", "conformance", "data", "search", "child"} <= rels
    status, doc = get_json(f"{standalone}/stac/conformance")
    assert status == 200 and "https://api.stacspec.org/v1.0.0/item-search" in doc["conformsTo"]
    collection = client.get_collection(PRODUCT_ID)
    assert [b["name"] for b in collection.summaries.to_dict()["eo:bands"]] == ["vv", "vh"]
    interval = collection.extent.temporal.intervals[0]
    assert interval == [FIRST_DATE, scene_date(N_SCENES - 1)]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_search_by_bbox_returns_the_items_whose_footprint_meets_it(standalone, method):
    images = [wf.catalog.Image.get(f"{PRODUCT_ID}:{r['name']}") for r in wf.get_backend().catalog.list_images(PRODUCT_ID)]
    # A small box at the east edge of the union of the scenes: some scenes reach it, others don't.
    east = max(corners_footprint(i).bounds[2] for i in images)
    bbox = [east - 0.004, 35.65, east - 0.001, 35.66]
    expected = sorted(i.name for i in images if corners_footprint(i).intersects(shapely.geometry.box(*bbox)))
    assert 0 < len(expected) < len(images)
    client = pystac_client.Client.open(f"{standalone}/stac/")
    found = [item.id for item in client.search(bbox=bbox, method=method, limit=2).items()]
    assert found == expected
    nowhere = list(client.search(bbox=[10, 10, 11, 11], method=method).items())
    assert nowhere == []


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("interval, scenes", [
    ("2020-01-09T13:25:00Z/2020-01-21T13:25:00Z", [1, 2, 3]),  # closed: both ends included
    ("2020-01-15T13:25:00Z", [2]),  # one instant
    ("../2020-01-09T13:25:00Z", [0, 1]),  # open start
    ("2020-04-20T00:00:00Z/..", [18, 19]),  # open end
    ("2021-01-01T00:00:00Z/..", []),
])
def test_search_by_datetime(standalone, method, interval, scenes):
    client = pystac_client.Client.open(f"{standalone}/stac/")
    items = list(client.search(datetime=interval, method=method, collections=[PRODUCT_ID]).items())
    assert [item.datetime for item in items] == [scene_date(i) for i in scenes]


def test_search_by_ids_and_collections(standalone):
    client = pystac_client.Client.open(f"{standalone}/stac/")
    names = [r["name"] for r in wf.get_backend().catalog.list_images(PRODUCT_ID)]
    items = list(client.search(ids=[names[5], names[2]], collections=[PRODUCT_ID]).items())
    assert [i.id for i in items] == [names[2], names[5]]
    both = list(client.search(bbox=[-106.06, 35.6, -105.9, 35.7], datetime="2020-01-01/2020-01-20").items())
    assert [i.id for i in both] == names[:3]


def test_paging_through_search_and_items(standalone):
    names = [r["name"] for r in wf.get_backend().catalog.list_images(PRODUCT_ID)]
    client = pystac_client.Client.open(f"{standalone}/stac/")
    for method in ("GET", "POST"):
        search = client.search(collections=[PRODUCT_ID], limit=3, method=method)
        pages = list(search.pages_as_dicts())
        assert [len(p["features"]) for p in pages] == [3] * 6 + [2]
        assert [f["id"] for p in pages for f in p["features"]] == names
    # the collection's items, following the next links by hand
    url, seen = f"{standalone}/stac/collections/{PRODUCT_ID}/items?limit=7", []
    while url:
        status, page = get_json(url)
        assert status == 200 and page["numberReturned"] == len(page["features"]) <= 7
        seen += [f["id"] for f in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert seen == names
    assert [i.id for i in client.get_collection(PRODUCT_ID).get_items()] == names


def test_one_item_and_its_fields(standalone):
    name = wf.get_backend().catalog.list_images(PRODUCT_ID)[0]["name"]
    status, item = get_json(f"{standalone}/stac/collections/{PRODUCT_ID}/items/{name}")
    assert status == 200 and item["id"] == name and item["collection"] == PRODUCT_ID
    image = wf.catalog.Image.get(f"{PRODUCT_ID}:{name}")
    props = item["properties"]
    assert props["proj:epsg"] == 32613 and props["proj:shape"] == [image.y_pixels, image.x_pixels]
    x0, a, b, y0, d, e = image.geotrans
    assert props["proj:transform"] == [a, b, x0, d, e, y0]
    assert props["datetime"] == "2020-01-03T13:25:00Z"
    asset = item["assets"]["image"]
    assert asset["type"] == "image/tiff; application=geotiff; profile=cloud-optimized"
    assert [b["name"] for b in asset["eo:bands"]] == ["vv", "vh"]
    assert asset["raster:bands"][0] == {"data_type": "uint16", "nodata": 0, "scale": pytest.approx(0.006),
                                        "offset": pytest.approx(-50.0), "spatial_resolution": 10.0}
    footprint, corners = shapely.geometry.shape(item["geometry"]), corners_footprint(image)
    assert footprint.hausdorff_distance(corners) < 1e-4  # degrees: a pixel (the edges bend in lon/lat)
    assert item["bbox"] == pytest.approx(list(footprint.bounds))
    assert fetch(f"{standalone}/stac/collections/{PRODUCT_ID}/items/nope").status == 404


def test_items_and_collections_validate_against_the_core_and_extension_schemas(standalone):
    _, page = get_json(f"{standalone}/stac/search?limit=3")
    _, collection = get_json(f"{standalone}/stac/collections/{PRODUCT_ID}")
    _, landing = get_json(f"{standalone}/stac/")
    for doc in [*page["features"], collection, landing]:
        assert stac_errors(doc) == []
    broken = json.loads(json.dumps(page["features"][0]))
    broken["properties"]["proj:shape"] = "1200x1200"
    assert "proj:shape" in stac_errors(broken)[0]["error_message"]  # the extension schemas are applied


# -- the assets: signed links to our COGs -------------------------------------------------------------
def test_odc_stac_loads_the_pixels_of_image_ndarray(standalone):
    client = pystac_client.Client.open(f"{standalone}/stac/")
    items = list(client.search(collections=[PRODUCT_ID], datetime="2020-01-09T13:25:00Z/2020-01-15T13:25:00Z").items())
    assert len(items) == 2
    for item in items:
        assert item.assets["image"].href.startswith(f"{standalone}/stac/assets/")
        image = wf.catalog.Image.get(f"{PRODUCT_ID}:{item.id}")
        x0, a, b, y0, d, e = image.geotrans
        geobox = GeoBox((image.y_pixels, image.x_pixels), Affine(a, b, x0, d, e, y0), image.cs_code)
        ds = odc.stac.load([item], bands=["vv", "vh"], geobox=geobox)
        expected = image.ndarray()
        for i, band in enumerate(["vv", "vh"]):
            got = ds[band].isel(time=0).values
            assert got.dtype == np.uint16
            np.testing.assert_array_equal(got, expected[i].filled(0))  # nodata 0 where masked


def test_asset_links_are_signed_and_answer_ranges(standalone):
    _, page = get_json(f"{standalone}/stac/search?limit=1")
    href = page["features"][0]["assets"]["image"]["href"]
    assert "expires=" in href and "signature=" in href
    r = fetch(href, headers={"Range": "bytes=0-3"})
    assert r.status == 206 and r.body in (b"II*\x00", b"MM\x00*") and r.headers["Accept-Ranges"] == "bytes"
    size = int(r.headers["Content-Range"].rsplit("/", 1)[1])
    head = fetch(href, method="HEAD")
    assert head.status == 200 and int(head.headers["Content-Length"]) == size
    assert fetch(href.replace("signature=", "signature=0")).status == 403
    assert fetch(href.split("?")[0]).status == 403
    other = page["features"][0]["id"]
    forged = href.replace(quote(other), quote(other) + "x", 1)  # another item with this item's signature
    assert fetch(forged).status == 403


def test_an_expired_asset_link_is_refused(stac_home, standalone):
    _, page = get_json(f"{standalone}/stac/search?limit=1")
    href = page["features"][0]["assets"]["image"]["href"]
    later = Backend(Settings(home=stac_home, user="user:bob", now_offset_s=2 * 86400), sweep=False)
    server = ThreadServer(later, register=False, kind="standalone")
    try:
        r = fetch(href.replace(standalone, server.url))
        assert r.status == 410 and "expired" in r.text
    finally:
        server.stop()
        later.close()


# -- access -------------------------------------------------------------------------------------
def test_a_product_you_may_not_read_never_appears(standalone):
    status, doc = get_json(f"{standalone}/stac/collections")
    assert [c["id"] for c in doc["collections"]] == [PRODUCT_ID]
    assert PRIVATE not in fetch(f"{standalone}/stac/").text
    all_items = get_json(f"{standalone}/stac/search?limit=100")[1]["features"]
    assert {f["collection"] for f in all_items} == {PRODUCT_ID} and len(all_items) == N_SCENES
    assert get_json(f"{standalone}/stac/search?ids=secret")[1]["features"] == []
    for path in (f"collections/{PRIVATE}", f"collections/{PRIVATE}/items", f"collections/{PRIVATE}/items/secret"):
        assert fetch(f"{standalone}/stac/{path}").status == 404, path
    # asked for by id it is an unknown collection: the same answer as for one that does not exist
    private = get_json(f"{standalone}/stac/search?collections={PRIVATE}")
    unknown = get_json(f"{standalone}/stac/search?collections=demo:nothing")
    assert private[0] == unknown[0] == 400
    assert private[1]["allowed"] == unknown[1]["allowed"] == [PRODUCT_ID]


def test_the_kernel_thread_mount_serves_public_products_only(reader):
    base = ensure_thread_server(reader)
    client = pystac_client.Client.open(f"{base}/stac/")
    assert [c.id for c in client.get_collections()] == [PRODUCT_ID]
    assert len(list(client.search(datetime="2020-01-15T00:00:00Z/2020-01-16T00:00:00Z").items())) == 1


def test_the_jupyter_mount_applies_the_configured_users_rights(stac_home, tmp_path):
    with jupyter_server(stac_home, tmp_path, TOKEN, {"WF_WIDGETS_USER": "user:demo"}) as (proc, base, log):
        stac = f"{base}/wf-widgets/stac"
        assert fetch(f"{stac}/collections").status == 403  # Jupyter's login
        auth = {"Authorization": f"token {TOKEN}"}
        status, doc = get_json(f"{stac}/collections", headers=auth)
        assert status == 200 and [c["id"] for c in doc["collections"]] == [PRIVATE, PRODUCT_ID]
        client = pystac_client.Client.open(f"{stac}/", headers=auth)
        items = list(client.search(collections=[PRIVATE], method="POST").items())
        assert [i.id for i in items] == ["secret"]
        href = items[0].assets["image"].href
        assert href.startswith(f"{stac}/assets/{PRIVATE}/secret.tif?")
        r = fetch(href, headers={"Range": "bytes=0-1"})  # the signature is the authorisation: no token
        assert r.status == 206
        proc.terminate()
        proc.wait(30)
        assert "signature=" not in log.read_text()


# -- bad parameters -----------------------------------------------------------------------------------
@pytest.mark.parametrize("query, parameter, value", [
    ("bbox=1,2,3", "bbox", "1,2,3"),
    ("bbox=a,b,c,d", "bbox", "a,b,c,d"),
    ("bbox=10,5,20,1", "bbox", "10,5,20,1"),
    ("bbox=0,0,200,1", "bbox", "0,0,200,1"),
    ("datetime=yesterday", "datetime", "yesterday"),
    ("datetime=../..", "datetime", "../.."),
    ("datetime=2020-02-01T00:00:00Z/2020-01-01T00:00:00Z", "datetime", "2020-02-01T00:00:00Z/2020-01-01T00:00:00Z"),
    ("limit=0", "limit", "0"),
    ("limit=ten", "limit", "ten"),
    ("limit=10001", "limit", "10001"),
    ("token=garbage", "token", "garbage"),
    ("collections=demo:nothing", "collections", "demo:nothing"),
    ("ids=a,,b", "ids", "a,,b"),
    ("sortby=datetime", "sortby", "datetime"),
])
def test_a_bad_parameter_is_a_400_naming_it(standalone, query, parameter, value):
    status, doc = get_json(f"{standalone}/stac/search?{query}")
    assert status == 400
    assert doc["parameter"] == parameter and doc["value"] == value and doc["allowed"]
    assert parameter in doc["description"]


def test_bad_post_bodies_and_item_parameters(standalone):
    status, doc = get_json(f"{standalone}/stac/search", method="POST", data=b"[1, 2]")
    assert status == 400 and doc["parameter"] == "body"
    status, doc = get_json(f"{standalone}/stac/search", method="POST", data=json.dumps({"bbox": "1,2"}).encode())
    assert status == 400 and doc["parameter"] == "bbox"
    status, doc = get_json(f"{standalone}/stac/collections/{PRODUCT_ID}/items?collections=x")
    assert status == 400 and doc["parameter"] == "collections" and doc["allowed"] == [PRODUCT_ID]
    status, doc = get_json(f"{standalone}/stac/collections/{PRODUCT_ID}/items?foo=1")
    assert status == 400 and doc["parameter"] == "foo" and "ids" not in doc["allowed"]


@every_store
def test_assets_are_served_from_every_object_store(backend, app_server, store_kind):
    wf.catalog.Product(id="alice:open", name="Open", readers=["group:public"]).save()
    wf.catalog.SpectralBand(name="red", product_id="alice:open", data_type="UInt16", nodata=0, band_index=0).save()
    data = (np.arange(64 * 64, dtype=np.uint16).reshape(1, 64, 64) % 1000) + 1
    wf.catalog.Image(name="one", product_id="alice:open", cs_code="EPSG:32613",
                     geotrans=(404000.0, 10.0, 0.0, 3952000.0, 0.0, -10.0)).upload_ndarray(data)
    base = app_server()
    client = pystac_client.Client.open(f"{base}/stac/")
    (item,) = client.search(collections=["alice:open"]).items()
    asset = item.assets["image"].to_dict()
    stored = wf.catalog.Image.get("alice:open:one").files[0]["href"]
    if store_kind == "s3":
        assert asset["alternate"]["s3"]["href"] == backend.storage.location(f"catalog/{stored}")
    else:
        assert "alternate" not in asset
    whole = fetch(asset["href"])
    assert whole.status == 200 and whole.body == backend.storage.get(f"catalog/{stored}")
    part = fetch(asset["href"], headers={"Range": "bytes=10-19"})
    assert part.status == 206 and part.body == whole.body[10:20]
    ds = odc.stac.load([item], bands=["red"], geobox=GeoBox((64, 64), Affine(10, 0, 404000, 0, -10, 3952000),
                                                             "EPSG:32613"))
    np.testing.assert_array_equal(ds["red"].isel(time=0).values, data[0])


def test_links_use_the_public_url(stac_home):
    public = Backend(Settings(home=stac_home, user="user:bob", public_url="https://data.example.org/wf-widgets/"),
                     sweep=False)
    server = ThreadServer(public, register=False, kind="standalone")
    try:
        _, landing = get_json(f"{server.url}/stac/")
        assert {link["href"] for link in landing["links"] if link["rel"] in ("self", "root")} == {
            "https://data.example.org/wf-widgets/stac/"}
        _, page = get_json(f"{server.url}/stac/search?limit=1")
        href = page["features"][0]["assets"]["image"]["href"]
        assert href.startswith(f"https://data.example.org/wf-widgets/stac/assets/{PRODUCT_ID}/")
        assert fetch(href.replace("https://data.example.org/wf-widgets", server.url)).status == 200
    finally:
        server.stop()
        public.close()


def test_names_that_need_escaping_in_urls(backend, app_server):
    wf.catalog.Product(id="alice:odd.names", name="Odd", readers=["group:public"]).save()
    wf.catalog.SpectralBand(name="red", product_id="alice:odd.names", data_type="Byte", band_index=0).save()
    name = "scene #1 ?50% é"
    wf.catalog.Image(name=name, product_id="alice:odd.names", cs_code="EPSG:32613",
                     geotrans=(404000.0, 10.0, 0.0, 3952000.0, 0.0, -10.0)).upload_ndarray(np.ones((1, 8, 8), np.uint8))
    base = app_server()
    client = pystac_client.Client.open(f"{base}/stac/")
    (item,) = client.get_collection("alice:odd.names").get_items()
    assert item.id == name
    status, doc = get_json(f"{base}/stac/collections/alice:odd.names/items/{quote(name)}")
    assert status == 200 and doc["id"] == name
    r = fetch(item.assets["image"].href, headers={"Range": "bytes=0-3"})
    assert r.status == 206 and r.body == b"II*\x00"


def test_the_real_standalone_server(stac_home):
    server = Serve(stac_home, user="user:demo")  # `wf-widgets serve`, as the owner of the private product
    try:
        client = pystac_client.Client.open(f"{server.url}/stac/")
        assert [c.id for c in client.get_collections()] == [PRODUCT_ID]  # no login: public products only
        items = list(client.search(datetime="2020-01-15T00:00:00Z/2020-01-16T00:00:00Z").items())
        assert [i.collection_id for i in items] == [PRODUCT_ID]
        assert fetch(items[0].assets["image"].href, headers={"Range": "bytes=0-3"}).status == 206
    finally:
        _, err = server.stop()
    assert "/stac/assets/" in err and "signature=" not in err  # its access log shows paths only
