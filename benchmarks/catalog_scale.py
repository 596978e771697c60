"""catalog_scale: costs that grow with what is asked, not with what is stored.

Catalog (ratio records, target 1.3): three homes whose product holds 100, 1,000 and
10,000 images, of which :data:`N_IN_TILE` cover the tile asked for (real 512 x 512 UInt16
COGs); the others are catalog rows scattered over the western United States (lon
-124..-96, lat 30..47, in the UTM zone of their place, 5 to 20 km wide, acquired 2019 to
2021), none within about 50 km of the tile, sharing the file of one real image (never read:
they miss the tile). The sizes are timed in turn, round after round (medians of
:data:`REPEAT` rounds after one to warm up), so that the machine's drift hits them alike:

* ``catalog_scale_composite_N``: ``wf.ImageCollection.from_id(PRODUCT, "2019-01-01",
  "2022-01-01").mean(axis="images").compute(tile)`` for a 256 px DLTile of 20 m (the whole
  round trip: job row, runner, reads, pyarrow);
* ``catalog_scale_tile_N``: one uncached XYZ map tile (zoom 13) of that composite, rendered
  as the tile server does it (``server.tiles.get_tile(..., cache=None)``, no HTTP).

``N`` is 1000 and 10000; the reference is the same figure at 100 images, so the ratio is the
growth. Both must stay within 1.3.

Jobs (ratio records and plain-text figures): homes whose job store
holds no job, 1,000 or 100,000 jobs of the past year (rows cloned with SQL from a real
job's: 70% SUCCEEDED downloads, their results expired and deleted after
:data:`RETENTION_DAYS` days as the hourly sweep leaves them, the live ones with their
result file; 20% FAILED; 10% CANCELLED):

* ``catalog_scale_jobs_first_compute_100000``: ``Backend()`` and its first ``compute()``
  (which sweeps once) on a fresh copy of the home, synced to disk, in this process
  (imports done), against the same at 1,000 jobs. The issue's target is an allowance, at
  most :data:`FIRST_COMPUTE_EXTRA_S` more than at 1,000 jobs: the record's ``ours_s`` is
  that extra time, its ``reference_s`` the allowance, so ratio <= 1 passes;
* ``catalog_scale_jobs_cli_100000``: ``wf-widgets jobs`` as a subprocess; the reference is
  the same on the empty home (target 1.3).

The sizes are timed in turn, round after round (medians of :data:`JOB_REPEAT`).

The whole run takes a few minutes (10,000 catalog rows and 100,000 job rows are inserted).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

try:
    from _common import ratio_record, temp_home
except ImportError:  # imported as benchmarks.catalog_scale
    from benchmarks._common import ratio_record, temp_home

TARGET = 1.3
#: Most seconds ``Backend()`` + first ``compute()`` at 100,000 jobs may take over the same at 1,000.
FIRST_COMPUTE_EXTRA_S = 0.030
REPEAT = 9
SIZES = (100, 1_000, 10_000)
N_IN_TILE = 4
PRODUCT = "bench:scale"
CENTER = (35.6870, -105.9378)  # lat, lon
TILE_RESOLUTION = 20.0
TILE_PIXELS = 256
MAP_ZOOM = 13
REAL_PIXELS = 512
REAL_RESOLUTION = 30.0
AREA = (-124.0, 30.0, -96.0, 47.0)  # lon/lat box the other images are scattered over
KEEP_AWAY_DEG = 0.5  # no scattered image centre this close to the tile (and none reaches it)
JOB_SIZES = (1_000, 100_000)
JOB_REPEAT = 5
RETENTION_DAYS = 10  # the default of WF_WIDGETS_RETENTION_DAYS


def run() -> list[dict]:
    """Time the catalog queries and the job store at growing sizes; see the module docstring."""
    with temp_home("wf-widgets-catalog-scale-"):
        home = Path(os.environ["WF_WIDGETS_HOME"])
        records = _catalog(home / "catalog-scale")
        records += _jobs(home / "jobs-scale")
        return records


# -- catalog ------------------------------------------------------------------------------------
def _map_tile(z: int, lon: float, lat: float) -> tuple[int, int, int]:
    n = 2 ** z
    return z, int((lon + 180.0) / 360.0 * n), int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)


def _real_images(backend, tile, map_bounds_3857) -> str:
    """Upload :data:`N_IN_TILE` COGs each covering the tile and the map tile; returns a file href."""
    import wf_widgets as wf
    from wf_widgets.geo._crs import transformer

    xs, ys = transformer("EPSG:3857", tile.crs).transform(
        [map_bounds_3857[0], map_bounds_3857[2], map_bounds_3857[0], map_bounds_3857[2]],
        [map_bounds_3857[1], map_bounds_3857[1], map_bounds_3857[3], map_bounds_3857[3]])
    b = tile.bounds
    xmin, ymin = min(min(xs), b[0]), min(min(ys), b[1])
    xmax, ymax = max(max(xs), b[2]), max(max(ys), b[3])
    side = REAL_PIXELS * REAL_RESOLUTION
    slack_x, slack_y = side - (xmax - xmin), side - (ymax - ymin)
    assert slack_x > 0 and slack_y > 0, "real images must cover the tile and the map tile"
    rng = np.random.default_rng(1)
    href = None
    for i in range(N_IN_TILE):
        x0 = xmin - rng.uniform(0.1, 0.9) * slack_x
        y1 = ymax + rng.uniform(0.1, 0.9) * slack_y
        data = rng.integers(1, 10000, (1, REAL_PIXELS, REAL_PIXELS), dtype=np.uint16)
        image = wf.catalog.Image(name=f"real_{i}", product_id=PRODUCT, acquired=_dt.datetime(2020, 3, 1 + i),
                                 cs_code=tile.crs, geotrans=(x0, REAL_RESOLUTION, 0.0, y1, 0.0, -REAL_RESOLUTION),
                                 store=backend.catalog)
        image.upload_ndarray(data, overviews=False)
        href = href or image.files[0]["href"]
    return href


def _scattered_rows(start: int, count: int, href: str, rng: np.random.Generator) -> list[dict]:
    """``count`` image rows scattered over :data:`AREA`, away from the tile."""
    from wf_widgets.geo import utm_crs, utm_zone
    from wf_widgets.geo._crs import transformer

    rows = []
    base = _dt.datetime(2019, 1, 1, tzinfo=_dt.timezone.utc)
    while len(rows) < count:
        lon, lat = rng.uniform(AREA[0], AREA[2]), rng.uniform(AREA[1], AREA[3])
        if abs(lon - CENTER[1]) < KEEP_AWAY_DEG and abs(lat - CENTER[0]) < KEEP_AWAY_DEG:
            continue
        crs = utm_crs(utm_zone(lon))
        x, y = transformer("EPSG:4326", crs).transform(lon, lat)
        resolution = float(rng.choice([10.0, 20.0]))
        width, height = (int(v) for v in rng.integers(500, 1001, 2))
        i = start + len(rows)
        rows.append({
            "id": f"{PRODUCT}:scattered_{i:06d}", "product_id": PRODUCT, "name": f"scattered_{i:06d}",
            "acquired": base + _dt.timedelta(seconds=float(rng.uniform(0, 3 * 365 * 86400))), "cs_code": crs,
            "geotrans": [x - width * resolution / 2, resolution, 0.0, y + height * resolution / 2, 0.0, -resolution],
            "x_pixels": width, "y_pixels": height, "extra_properties": {"orbit": int(rng.integers(1, 175))},
            "files": [{"href": href, "size": 1}],
        })
    return rows


def _catalog_home(home: Path, size: int) -> tuple:
    """A backend on ``home`` whose product holds ``size`` images; returns it, the composite and map-tile calls."""
    import wf_widgets as wf
    from wf_widgets.backend import Backend
    from wf_widgets.config import Settings
    from wf_widgets.engine.render import tile_bounds
    from wf_widgets.geo import DLTile
    from wf_widgets.server.tiles import get_tile

    backend = Backend(Settings(home=home), sweep=False)
    store = backend.catalog
    wf.catalog.Product(id=PRODUCT, name="scale", readers=[wf.catalog.PUBLIC], store=store).save()
    wf.catalog.GenericBand(name="b1", product_id=PRODUCT, data_type="UInt16", nodata=0, data_range=(0, 10000),
                           band_index=0, store=store).save()
    tile = DLTile.from_latlon(CENTER[0], CENTER[1], TILE_RESOLUTION, TILE_PIXELS, 0)
    z, x, y = _map_tile(MAP_ZOOM, CENTER[1], CENTER[0])
    href = _real_images(backend, tile, tile_bounds(z, x, y))
    start = time.perf_counter()
    rows = _scattered_rows(N_IN_TILE, size - N_IN_TILE, href, np.random.default_rng(size))
    with store.transaction():
        for row in rows:
            store.insert_image(row)
    insert_s = time.perf_counter() - start
    collection = wf.ImageCollection.from_id(PRODUCT, "2019-01-01", "2022-01-01")
    composite = collection.mean(axis="images")
    layer = backend.layers.put(composite.to_json(), {"scales": [[0, 10000]], "colormap": "viridis"})

    def compute():
        previous = wf.set_backend(backend)
        try:
            result = composite.compute(tile)
        finally:
            wf.set_backend(previous)
        assert result.ndarray.shape == (1, TILE_PIXELS, TILE_PIXELS)

    def map_tile():
        response = get_tile(backend, layer["id"], z, x, y, cache=None)
        assert response.status == 200, response.body

    previous = wf.set_backend(backend)
    try:
        found = collection.length().compute(tile)
    finally:
        wf.set_backend(previous)
    assert found == N_IN_TILE, f"{found} images meet the tile at {size}, expected {N_IN_TILE}"
    print(f"  catalog_scale: a product of {size:,} images made ({insert_s:.1f} s to add the rows)", flush=True)
    return backend, compute, map_tile


def _catalog(root: Path) -> list[dict]:
    """One home per size; the sizes are timed in turn, round after round, so drift hits them alike."""
    homes: dict[int, tuple] = {}
    try:
        for size in SIZES:
            homes[size] = _catalog_home(root / f"catalog-{size}", size)
        timings: dict[int, tuple[list, list]] = {size: ([], []) for size in SIZES}
        for round_ in range(1 + REPEAT):  # the first round warms up
            for size in SIZES:
                _, compute, map_tile = homes[size]
                for fn, out in ((compute, timings[size][0]), (map_tile, timings[size][1])):
                    start = time.perf_counter()
                    fn()
                    if round_:
                        out.append(time.perf_counter() - start)
    finally:
        for backend, _, _ in homes.values():
            backend.close()
    figures = {size: (statistics.median(a), statistics.median(b)) for size, (a, b) in timings.items()}

    base = SIZES[0]
    records = []
    for size in SIZES[1:]:
        records.append(ratio_record(f"catalog_scale_composite_{size}", figures[size][0], figures[base][0], TARGET))
        records.append(ratio_record(f"catalog_scale_tile_{size}", figures[size][1], figures[base][1], TARGET))
    for size in SIZES:
        records.append({"text": f"catalog_scale: {size:,} images ({N_IN_TILE} in the tile): composite over a "
                                f"{TILE_PIXELS} px tile {figures[size][0] * 1000:.1f} ms, map tile z{MAP_ZOOM} "
                                f"{figures[size][1] * 1000:.1f} ms (medians of {REPEAT})"})
    for size in SIZES[1:]:
        records.append({"text": f"catalog_scale growth {size:,}/{base:,} images: composite "
                                f"{figures[size][0] / figures[base][0]:.2f}x, map tile "
                                f"{figures[size][1] / figures[base][1]:.2f}x (target <= {TARGET})"})
    return records


# -- jobs ---------------------------------------------------------------------------------------
def _job_home(home: Path, n: int) -> Path:
    """A home whose job store holds ``n`` jobs of the past year, cloned with SQL from real rows.

    Stages: 70% SUCCEEDED (download results, pyarrow), 20% FAILED, 10% CANCELLED, one every
    ``365 / n`` days, the newest an hour ago. Results are kept :data:`RETENTION_DAYS`: older
    ones are expired and deleted (``result_deleted``), as the hourly sweep leaves them; the
    live ones have their result file. Ids are time-ordered, as ``new_job_id`` makes them.
    """
    import wf_widgets as wf

    backend = wf.Backend(wf.Settings(home=home), sweep=False)
    previous = wf.set_backend(backend)
    try:
        assert (wf.Int(1) + 1).compute() == 2  # the template: a real SUCCEEDED download job
        results = backend.results.root
    finally:
        wf.set_backend(previous)
        backend.close()
    if n == 0:
        conn = sqlite3.connect(home / "jobs.sqlite", isolation_level=None)
        template = conn.execute("SELECT id, result_path FROM jobs").fetchone()
        conn.execute("DELETE FROM jobs")
        conn.close()
        (results / template[1]).unlink()
        return home
    conn = sqlite3.connect(home / "jobs.sqlite", isolation_level=None)
    conn.row_factory = sqlite3.Row
    template = dict(conn.execute("SELECT * FROM jobs").fetchone())
    result_bytes = (results / template["result_path"]).read_bytes()
    (results / template["result_path"]).unlink()
    conn.execute("DELETE FROM jobs")
    columns = list(template)
    now = time.time()
    retention = RETENTION_DAYS * 86400.0
    rng = np.random.default_rng(n)
    suffix = template["result_path"].split(".", 1)[1]
    rows, live = [], []
    for i in range(n):
        created = now - 3600.0 - (n - 1 - i) * (365 * 86400.0 / n)
        job_id = f"{int(created * 1000):012x}{rng.bytes(18).hex()}"
        finished = created + 0.05
        row = dict(template, id=job_id, created=created, started=created, finished=finished, updated=finished,
                   pid=int(rng.integers(1000, 60000)), pid_start=int(rng.integers(1, 10 ** 6)))
        draw = rng.random()
        if draw < 0.7:
            expires = finished + retention
            row.update(stage="SUCCEEDED", result_path=f"{job_id}.{suffix}", expires=expires,
                       result_deleted=int(expires < now))
            if expires >= now:
                live.append(row["result_path"])
        else:
            failed = draw < 0.9
            row.update(stage="FAILED" if failed else "CANCELLED", error_code="INVALID" if failed else "NONE",
                       error_message="division by zero" if failed else "cancelled by the user",
                       steps_done=1, result_path=None, result_mimetype=None, result_size=None,
                       result_sha256=None, expires=None)
        rows.append(tuple(row[c] for c in columns))
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO jobs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for name in live:
        (results / name).write_bytes(result_bytes)
    return home


def _first_compute(home: Path) -> float:
    """Seconds of ``Backend()`` and its first ``compute()`` (which sweeps once) on a copy of ``home``."""
    import wf_widgets as wf

    work = home.with_name(home.name + "-run")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(home, work)
    # On disk, as a home at rest is: else the sweep's WAL checkpoint (it syncs the database file)
    # writes out the whole fresh copy (30 MB at 100,000 jobs), which no real start-up pays.
    os.sync()
    start = time.perf_counter()
    backend = wf.Backend(wf.Settings(home=work))
    previous = wf.set_backend(backend)
    try:
        assert (wf.Int(1) + 1).compute() == 2
        elapsed = time.perf_counter() - start
    finally:
        wf.set_backend(previous)
        backend.close()
        shutil.rmtree(work, ignore_errors=True)
    return elapsed


def _cli(home: Path) -> float:
    """Seconds of ``wf-widgets jobs`` in a subprocess on ``home``."""
    script = Path(sys.executable).with_name("wf-widgets")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "wf_widgets.cli"]
    env = {**os.environ, "WF_WIDGETS_HOME": str(home)}
    env.pop("WF_WIDGETS_CONFIG", None)
    start = time.perf_counter()
    done = subprocess.run([*command, "jobs"], env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    return elapsed


def _jobs(root: Path) -> list[dict]:
    homes = {}
    for n in (0, *JOB_SIZES):
        start = time.perf_counter()
        homes[n] = _job_home(root / f"jobs-{n}", n)
        print(f"  catalog_scale: a home with {n:,} jobs made in {time.perf_counter() - start:.1f} s", flush=True)
    first_s: dict[int, list[float]] = {n: [] for n in homes}
    cli_s: dict[int, list[float]] = {n: [] for n in (0, JOB_SIZES[-1])}
    for _ in range(JOB_REPEAT):
        for n in first_s:
            first_s[n].append(_first_compute(homes[n]))
        for n in cli_s:
            cli_s[n].append(_cli(homes[n]))
    first = {n: statistics.median(v) for n, v in first_s.items()}
    cli = {n: statistics.median(v) for n, v in cli_s.items()}
    big, small = JOB_SIZES[-1], JOB_SIZES[0]
    records = [
        ratio_record(f"catalog_scale_jobs_first_compute_{big}", max(first[big] - first[small], 0.0),
                     FIRST_COMPUTE_EXTRA_S, 1.0),
        ratio_record(f"catalog_scale_jobs_cli_{big}", cli[big], cli[0], TARGET),
        {"text": "catalog_scale_jobs: Backend() + first compute() (sweep included), medians of "
                 f"{JOB_REPEAT}: " + ", ".join(f"{n:,} jobs {first[n] * 1000:.0f} ms" for n in homes)
                 + f"; {big:,} jobs take {(first[big] - first[small]) * 1000:.0f} ms more than {small:,} "
                   f"(allowed: {FIRST_COMPUTE_EXTRA_S * 1000:.0f} ms)"},
        {"text": f"catalog_scale_jobs: `wf-widgets jobs` (subprocess), medians of {JOB_REPEAT}: empty home "
                 f"{cli[0] * 1000:.0f} ms, {big:,} jobs {cli[big] * 1000:.0f} ms ({cli[big] / cli[0]:.2f}x)"},
    ]
    return records
