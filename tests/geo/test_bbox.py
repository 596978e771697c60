"""geo.bbox: the lon/lat boxes the catalog's spatial index stores and is asked about."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from wf_widgets.engine.reading import footprint, grid_polygon
from wf_widgets.engine.render import tile_geocontext
from wf_widgets.geo import AOI, DLTile, utm_crs, utm_zone
from wf_widgets.geo._crs import transformer
from wf_widgets.geo.bbox import WORLD, grid_outline, lonlat_bbox, lonlat_boxes


def _meets(box, boxes) -> bool:
    w, s, e, n = box
    return any(w <= east and e >= west and s <= north and n >= south for west, south, east, north in boxes)


def _lonlats(crs, geotrans, width, height):
    xs, ys = grid_outline(Affine.from_gdal(*geotrans), width, height, n=64)
    return transformer(crs, "EPSG:4326").transform(xs, ys)


def test_a_utm_grid_box_holds_its_outline_with_a_small_margin():
    geotrans = (400000.0, 20.0, 0.0, 4000000.0, 0.0, -20.0)
    west, south, east, north = lonlat_bbox("EPSG:32613", geotrans, 800, 700)
    lons, lats = _lonlats("EPSG:32613", geotrans, 800, 700)
    assert west < lons.min() and east > lons.max() and south < lats.min() and north > lats.max()
    # Tight: within 3% of the grid's size (the margin is 2% of the larger side).
    span = max(lons.max() - lons.min(), lats.max() - lats.min())
    assert lons.min() - west < 0.03 * span and north - lats.max() < 0.03 * span
    assert lonlat_boxes("EPSG:32613", geotrans, 800, 700) == [(west, south, east, north)]


@pytest.mark.parametrize("crs, geotrans", [
    # UTM zone 60, 100 km of 1 km pixels east of its central meridian (177 E) at 60 N: crosses 180.
    ("EPSG:32660", (500000.0, 1000.0, 0.0, 6700000.0, 0.0, -1000.0)),
    # UTM zone 1, west of its central meridian (177 W).
    ("EPSG:32601", (300000.0, 1000.0, 0.0, 6700000.0, 0.0, -1000.0)),
    # Lon/lat beyond 180 (170 E to 190 E).
    ("EPSG:4326", (170.0, 0.1, 0.0, 10.0, 0.0, -0.1)),
])
def test_a_grid_crossing_the_antimeridian_is_stored_with_every_longitude_and_asked_as_two_boxes(crs, geotrans):
    width = 200
    west, south, east, north = lonlat_bbox(crs, geotrans, width, 100)
    assert (west, east) == (-180.0, 180.0) and -90 < south < north < 90
    boxes = lonlat_boxes(crs, geotrans, width, 100)
    assert len(boxes) == 2
    (w1, s1, e1, n1), (w2, s2, e2, n2) = boxes
    assert 160 < w1 < 180 and e1 == 180.0 and w2 == -180.0 and -180 < e2 < -160
    assert (s1, n1) == (s2, n2) == (south, north)
    # Boxes of grids on either side meet them; one on the other side of the world does not.
    lat = (south + north) / 2
    east_side = lonlat_bbox("EPSG:4326", (179.8, 0.01, 0.0, lat, 0.0, -0.01), 10, 10)
    west_side = lonlat_bbox("EPSG:4326", (-179.9, 0.01, 0.0, lat, 0.0, -0.01), 10, 10)
    far = lonlat_bbox("EPSG:4326", (0.0, 0.01, 0.0, lat, 0.0, -0.01), 10, 10)
    assert _meets(east_side, boxes) and _meets(west_side, boxes) and not _meets(far, boxes)


@pytest.mark.parametrize("crs, pole", [("EPSG:3413", 90.0), ("EPSG:3031", -90.0)])
def test_a_grid_around_a_pole_reaches_it_with_every_longitude(crs, pole):
    # 1000 km of 10 km pixels centred on the pole (polar stereographic: the pole is at 0, 0).
    geotrans = (-500000.0, 10000.0, 0.0, 500000.0, 0.0, -10000.0)
    west, south, east, north = lonlat_bbox(crs, geotrans, 100, 100)
    assert (west, east) == (-180.0, 180.0)
    assert (north == 90.0 and 80 < south < 86) if pole > 0 else (south == -90.0 and -86 < north < -80)
    # A grid of the same projection beside the pole, not around it: an ordinary box.
    beside = (1000000.0, 10000.0, 0.0, 500000.0, 0.0, -10000.0)
    w, s, e, n = lonlat_bbox(crs, beside, 50, 50)
    assert e - w < 60 and abs(n) < 89 and abs(s) < 89


@pytest.mark.parametrize("crs, geotrans, width, height", [
    ("not a crs", (0.0, 1.0, 0.0, 0.0, 0.0, -1.0), 10, 10),
    ("EPSG:32613", (0.0, 0.0, 0.0, 0.0, 0.0, 0.0), 10, 10),           # no area
    ("EPSG:32613", (float("nan"), 10.0, 0.0, 0.0, 0.0, -10.0), 10, 10),
    ("EPSG:32613", (1e30, 10.0, 0.0, 0.0, 0.0, -10.0), 10, 10),       # projects to nothing finite
    ("EPSG:32613", (0.0, 10.0, 0.0), 10, 10),                          # not a geotransform
    ("EPSG:32613", (500000.0, 10.0, 0.0, 4e6, 0.0, -10.0), 0, 10),    # no pixels
])
def test_a_grid_that_cannot_be_placed_is_anywhere(crs, geotrans, width, height):
    assert lonlat_bbox(crs, geotrans, width, height) == WORLD
    assert lonlat_boxes(crs, geotrans, width, height) == [WORLD]


def _random_pair(rng):
    lon, lat = float(rng.uniform(-180, 180)), float(rng.uniform(-80, 80))
    if rng.integers(4) == 0:
        lon = float(rng.choice([-179.95, 179.95]))
    crs = str(rng.choice(["EPSG:4326", "EPSG:3857", utm_crs(utm_zone(lon)), "EPSG:32613"]))
    res = (1e-4 if crs == "EPSG:4326" else 10.0) * float(rng.choice([1, 10, 100]))
    width, height = (int(v) for v in rng.integers(50, 3000, 2))
    kind = rng.integers(3)
    if kind == 0:
        ctx = DLTile.from_latlon(lat, lon, float(rng.choice([10, 100, 1000])), int(rng.choice([256, 2048])), 0)
    elif kind == 1:
        z = int(rng.integers(3, 15))
        n = 2 ** z
        y = int((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * n)
        ctx = tile_geocontext(z, int((lon + 180) / 360 * n) % n, min(n - 1, max(0, y)))
    else:
        d = float(rng.choice([0.01, 0.5]))
        ctx = AOI(bounds=(lon - d, lat - d, lon + d, lat + d), crs="EPSG:4326", resolution=d / 100)
    # The image reaches just past (or stops just short of) a corner of the context's grid.
    corner = ctx.transform @ (float(rng.choice([0, ctx.width])), float(rng.choice([0, ctx.height])))
    x, y = transformer(ctx.crs, crs).transform(*corner)
    eps = res * float(rng.uniform(-2, 2))
    x0 = x + eps if rng.integers(2) else x - width * res + eps
    y1 = y + height * res + eps if rng.integers(2) else y + eps
    return ctx, crs, (x0, res, 0.0, y1, 0.0, -res), width, height


def test_boxes_never_lose_an_image_the_precise_footprint_test_keeps():
    """Images placed at a corner of contexts of every kind (UTM tiles, web-mercator tiles,
    lon/lat AOIs; some across the antimeridian), in other CRSs: whenever the engine's
    precise test (the 64-point outline projected into the context's CRS) finds an overlap,
    the boxes meet."""
    rng = np.random.default_rng(7)
    kept = 0
    for _ in range(400):
        ctx, crs, geotrans, width, height = _random_pair(rng)
        shape = footprint(crs, Affine.from_gdal(*geotrans), width, height, ctx.crs)
        if shape is None or shape.intersection(grid_polygon(ctx)).area <= 0:
            continue
        kept += 1
        assert _meets(lonlat_bbox(crs, geotrans, width, height),
                      lonlat_boxes(ctx.crs, ctx.geotrans, ctx.width, ctx.height)), (ctx, crs, geotrans, width, height)
    assert kept > 100  # the cases test something
