"""stac_search: ``/stac/search`` with a bbox costs what its answer costs, not what the product holds.

Two homes whose public product holds 1,000 and 10,000 images (catalog rows: each image in the
UTM zone of its place, 5 to 20 km wide, acquired 2019 to 2021). :data:`N_IN_BOX` of them lie in
the query box (near Santa Fe); the others are scattered over the western United States, none
within about 50 km of it, so both searches answer the same :data:`N_IN_BOX` items. Each home is
served by a real standalone server (``python -m wf_widgets.server.standalone``, what
``wf-widgets serve`` runs) and searched over HTTP: ``GET /stac/search?bbox=...&limit=100``
(parsing, the R*Tree, the precise footprint test, the items' JSON with their signed asset
links, the HTTP round trip).

Records (medians of :data:`REPEAT` timings, the two sizes and the reference in turn so drift
hits them alike):

* ``stac_search_10000``: the search over 10,000 images, against a hand-written in-memory
  filter over the same 10,000 footprints (a Python list of their lon/lat bounds, scanned for
  the ones meeting the box, then the candidates' polygons tested with shapely: what a search
  costs without a database or a server). Informative (target :data:`TARGET_VS_MEMORY`): the
  HTTP request and the JSON of the answer dominate at this size.
* ``stac_search_growth_10000``: the search over 10,000 images against the same search over
  1,000 (target :data:`TARGET_GROWTH`: within log-linear growth; a scan would be about 10x).
  The in-memory filter's own growth is printed beside it.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import statistics
import time
import urllib.request
from pathlib import Path

import numpy as np

try:
    from _common import ratio_record, start_standalone, stop_process, temp_home
except ImportError:  # imported as benchmarks.stac_search
    from benchmarks._common import ratio_record, start_standalone, stop_process, temp_home

SIZES = (1_000, 10_000)
N_IN_BOX = 10
REPEAT = 15
TARGET_GROWTH = 1.3
TARGET_VS_MEMORY = 50.0
PRODUCT = "bench:stac"
CENTER = (35.6870, -105.9378)  # lat, lon
BOX = (CENTER[1] - 0.05, CENTER[0] - 0.05, CENTER[1] + 0.05, CENTER[0] + 0.05)  # west, south, east, north
AREA = (-124.0, 30.0, -96.0, 47.0)
KEEP_AWAY_DEG = 0.5

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _rows(count: int, rng: np.random.Generator) -> list[dict]:
    """``count`` image rows: :data:`N_IN_BOX` meeting :data:`BOX`, the others scattered away from it."""
    from wf_widgets.geo import utm_crs, utm_zone
    from wf_widgets.geo._crs import transformer

    rows = []
    base = _dt.datetime(2019, 1, 1, tzinfo=_dt.timezone.utc)
    while len(rows) < count:
        if len(rows) < N_IN_BOX:
            lon, lat = CENTER[1] + rng.uniform(-0.03, 0.03), CENTER[0] + rng.uniform(-0.03, 0.03)
        else:
            lon, lat = rng.uniform(AREA[0], AREA[2]), rng.uniform(AREA[1], AREA[3])
            if abs(lon - CENTER[1]) < KEEP_AWAY_DEG and abs(lat - CENTER[0]) < KEEP_AWAY_DEG:
                continue
        crs = utm_crs(utm_zone(lon))
        x, y = transformer("EPSG:4326", crs).transform(lon, lat)
        resolution = float(rng.choice([10.0, 20.0]))
        width, height = (int(v) for v in rng.integers(250, 1001, 2))
        i = len(rows)
        rows.append({
            "id": f"{PRODUCT}:img_{i:06d}", "product_id": PRODUCT, "name": f"img_{i:06d}",
            "acquired": base + _dt.timedelta(seconds=float(rng.uniform(0, 3 * 365 * 86400))), "cs_code": crs,
            "geotrans": [x - width * resolution / 2, resolution, 0.0, y + height * resolution / 2, 0.0, -resolution],
            "x_pixels": width, "y_pixels": height, "files": [{"href": f"files/bench/img_{i:06d}.tif", "size": 1}],
        })
    return rows


def _home(home: Path, size: int) -> list[dict]:
    """A home whose public product holds ``size`` images; returns their rows."""
    import wf_widgets as wf
    from wf_widgets.backend import Backend
    from wf_widgets.config import Settings

    backend = Backend(Settings(home=home), sweep=False)
    try:
        store = backend.catalog
        wf.catalog.Product(id=PRODUCT, name="stac search", readers=[wf.catalog.PUBLIC], store=store).save()
        wf.catalog.GenericBand(name="b1", product_id=PRODUCT, data_type="UInt16", nodata=0, band_index=0,
                               store=store).save()
        rows = _rows(size, np.random.default_rng(size))
        with store.transaction():
            for row in rows:
                store.insert_image(row)
    finally:
        backend.close()
    return rows


def _memory_filter(rows: list[dict]):
    """The hand-written reference: the footprints' bounds in a list, scanned, then the candidates' polygons."""
    import shapely.geometry

    from wf_widgets.catalog.stac import footprint

    polygons = [(row["name"], footprint(row)) for row in rows]
    bounds = [(name, *poly.bounds, poly) for name, poly in polygons]
    query = shapely.geometry.box(*BOX)
    west, south, east, north = BOX

    def search() -> list[str]:
        found = [(name, poly) for name, w, s, e, n, poly in bounds if w <= east and e >= west and s <= north and n >= south]
        return sorted(name for name, poly in found if poly.intersects(query))

    return search


def _http_search(base: str):
    url = f"{base}/stac/search?bbox={','.join(map(str, BOX))}&limit=100"

    def search() -> list[str]:
        with _opener.open(url, timeout=60) as resp:
            doc = json.loads(resp.read())
        return [f["id"] for f in doc["features"]]

    return search


def run() -> list[dict]:
    """Time ``/stac/search`` at 1,000 and 10,000 images and the in-memory filter; see the module docstring."""
    with temp_home("wf-widgets-stac-search-"):
        root = Path(os.environ["WF_WIDGETS_HOME"])
        servers, searches, references = [], {}, {}
        try:
            for size in SIZES:
                start = time.perf_counter()
                rows = _home(root / f"stac-{size}", size)
                proc, base = start_standalone(str(root / f"stac-{size}"))
                servers.append(proc)
                searches[size], references[size] = _http_search(base), _memory_filter(rows)
                expected = references[size]()
                assert len(expected) == N_IN_BOX and searches[size]() == expected, (size, expected)
                print(f"  stac_search: {size:,} images served ({time.perf_counter() - start:.1f} s to make)", flush=True)
            timings: dict[str, list[float]] = {}
            for round_ in range(1 + REPEAT):  # the first round warms up
                for size in SIZES:
                    for key, fn in ((f"http_{size}", searches[size]), (f"memory_{size}", references[size])):
                        t0 = time.perf_counter()
                        fn()
                        if round_:
                            timings.setdefault(key, []).append(time.perf_counter() - t0)
        finally:
            for proc in servers:
                stop_process(proc)
    m = {key: statistics.median(values) for key, values in timings.items()}
    small, big = SIZES
    return [
        ratio_record(f"stac_search_{big}", m[f"http_{big}"], m[f"memory_{big}"], TARGET_VS_MEMORY),
        ratio_record(f"stac_search_growth_{big}", m[f"http_{big}"], m[f"http_{small}"], TARGET_GROWTH),
        {"text": f"stac_search: /stac/search with a bbox ({N_IN_BOX} items) over {small:,} images "
                 f"{m[f'http_{small}'] * 1000:.2f} ms, over {big:,} {m[f'http_{big}'] * 1000:.2f} ms "
                 f"(x{m[f'http_{big}'] / m[f'http_{small}']:.2f}); the in-memory filter {m[f'memory_{small}'] * 1000:.2f} ms "
                 f"and {m[f'memory_{big}'] * 1000:.2f} ms (x{m[f'memory_{big}'] / m[f'memory_{small}']:.2f})"},
    ]


if __name__ == "__main__":  # pragma: no cover
    for record in run():
        print(record)
