"""catalog.stac, on each database: search through the indexes finds what a brute-force filter finds, a page at a time."""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pytest
import shapely.geometry
from pyproj import Transformer

from wf_widgets.catalog import stac
from wf_widgets.catalog.reads import Identity
from wf_widgets.catalog.store import CatalogStore
from wf_widgets.config import Settings
from wf_widgets.errors import ValidationError

UTC = _dt.timezone.utc
PUBLIC, PRIVATE = "org:public", "org:private"


def _row(product: str, name: str, crs: str, x0: float, y0: float, acquired, size: int = 500) -> dict:
    return {"id": f"{product}:{name}", "product_id": product, "name": name, "acquired": acquired, "cs_code": crs,
            "geotrans": [x0, 10.0, 0.0, y0, 0.0, -10.0], "x_pixels": size, "y_pixels": size, "files": None}


def _corners(row: dict) -> shapely.geometry.Polygon:
    x0, a, _, y0, _, e = row["geotrans"]
    w, h = row["x_pixels"], row["y_pixels"]
    lons, lats = Transformer.from_crs(row["cs_code"], "EPSG:4326", always_xy=True).transform(
        [x0, x0 + a * w, x0 + a * w, x0], [y0, y0, y0 + e * h, y0 + e * h])
    return shapely.geometry.Polygon(zip(lons, lats))


@pytest.fixture
def store(tmp_path, database):
    s = CatalogStore(Settings(home=tmp_path / "home", user="user:alice", database_url=database))
    s.insert_product({"id": PUBLIC, "owners": ["user:alice"], "readers": ["group:public"], "writers": []})
    s.insert_product({"id": PRIVATE, "owners": ["user:alice"], "readers": [], "writers": []})
    yield s
    s.close()


@pytest.fixture
def grid(store):
    """60 public images of 5 km on a jittered grid in UTM 13 with dates over 60 days, and a private one."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(60):
        x0 = 400000.0 + (i % 10) * 4000 + rng.integers(0, 1000)
        y0 = 4000000.0 - (i // 10) * 4000 - rng.integers(0, 1000)
        when = _dt.datetime(2020, 1, 1, tzinfo=UTC) + _dt.timedelta(days=int(rng.integers(0, 60)), hours=i % 24)
        rows.append(store.insert_image(_row(PUBLIC, f"img{i:03d}", "EPSG:32613", x0, y0, when)))
    store.insert_image(_row(PRIVATE, "secret", "EPSG:32613", 400000.0, 4000000.0, _dt.datetime(2020, 1, 5, tzinfo=UTC)))
    return rows


def _all_pages(store, reader, **params) -> list[str]:
    names, token, pages = [], None, 0
    while True:
        query = stac.parse_query({**params, **({"token": token} if token else {})})
        found, after = stac.search(store, reader, query)
        assert len(found) <= query.limit
        names += [row["name"] for _, row, _ in found]
        pages += 1
        if after is None:
            return names
        token = stac.encode_token(*after)


def test_search_finds_what_a_brute_force_filter_finds(store, grid):
    rng = np.random.default_rng(11)
    footprints = {r["name"]: _corners(r) for r in grid}
    for _ in range(12):
        lon, lat = -106.1 + rng.random() * 0.4, 35.8 + rng.random() * 0.2
        bbox = [lon, lat, lon + rng.random() * 0.1, lat + rng.random() * 0.1]
        start = _dt.datetime(2020, 1, 1, tzinfo=UTC) + _dt.timedelta(days=int(rng.integers(0, 40)))
        end = start + _dt.timedelta(days=int(rng.integers(0, 30)))
        interval = f"{stac.iso(start)}/{stac.iso(end)}"
        expected = sorted(r["name"] for r in grid if footprints[r["name"]].intersects(shapely.geometry.box(*bbox))
                          and start <= r["acquired"] <= end)
        got = _all_pages(store, stac.PUBLIC_READER, bbox=",".join(map(str, bbox)), datetime=interval, limit="3")
        assert got == expected, (bbox, interval)
    assert _all_pages(store, stac.PUBLIC_READER, limit="7") == [r["name"] for r in grid]  # no filter: every page


def test_a_reader_sees_the_products_it_may_read(store, grid):
    assert "secret" not in _all_pages(store, stac.PUBLIC_READER, limit="100")
    assert "secret" in _all_pages(store, Identity("user:alice"), limit="100")
    with pytest.raises(ValidationError, match=r"Unknown collection 'org:private'; the collections are 'org:public'"):
        stac.search(store, stac.PUBLIC_READER, stac.parse_query({"collections": PRIVATE}))


def test_search_across_the_antimeridian(store):
    east = store.insert_image(_row(PUBLIC, "east", "EPSG:32660", 800000.0, 10000.0, None))  # about 179.7 E
    west = store.insert_image(_row(PUBLIC, "west", "EPSG:32601", 200000.0, 10000.0, None))  # about 179.7 W
    assert 179.5 < _corners(east).bounds[0] < _corners(east).bounds[2] < 179.99
    assert -179.99 < _corners(west).bounds[0] < _corners(west).bounds[2] < -179.5
    assert _all_pages(store, stac.PUBLIC_READER, bbox="179.5,-1,-179.5,1") == ["east", "west"]
    assert _all_pages(store, stac.PUBLIC_READER, bbox="179.5,-1,179.99,1") == ["east"]
    assert _all_pages(store, stac.PUBLIC_READER, bbox="-179.99,-1,-179.5,1") == ["west"]
    assert _all_pages(store, stac.PUBLIC_READER, bbox="-179.5,-1,179.5,1") == []


def test_product_extent(store, grid):
    extent = store.product_extent(PUBLIC)
    assert extent["count"] == 60
    assert extent["first"] == min(r["acquired"] for r in grid) and extent["last"] == max(r["acquired"] for r in grid)
    union = shapely.unary_union([_corners(r) for r in grid])
    west, south, east, north = extent["box"]
    assert shapely.geometry.box(west, south, east, north).contains(union)
    assert store.product_extent("org:none") == {"count": 0, "box": None, "first": None, "last": None}


@pytest.mark.parametrize("params, field, message", [
    ({"bbox": [1, 2, 3]}, "bbox", "bbox must have 4"),
    ({"bbox": [0, 10, 1, 5]}, "bbox", "is not a lon/lat box"),
    ({"datetime": "2020-13-01"}, "datetime", "is not an RFC 3339"),
    ({"datetime": "/"}, "datetime", "open at both ends"),
    ({"limit": 0}, "limit", "limit must be an integer from 1 to 10000, got 0"),
    ({"limit": True}, "limit", "limit must be"),
    ({"ids": 5}, "ids", "ids must be a comma-separated list"),
    ({"token": "e30"}, "token", "is not a paging token"),
    ({"filter": {}}, "filter", "Unknown search parameter 'filter'"),
])
def test_bad_parameters(params, field, message):
    with pytest.raises(ValidationError, match=message) as info:
        stac.parse_query(params)
    assert info.value.field == field and info.value.allowed
