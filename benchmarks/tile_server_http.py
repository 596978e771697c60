"""Tile server benchmark over HTTP: our tile server against TiTiler, with 1 and 8 concurrent clients.

The data: the demo composite (``sentinel-1:GRD``, mean of its 20 scenes, band ``vv`` in dB,
as ``benchmarks/tile_render.py`` sets it up) over the demo's 1024 px DLTile, computed once
and stored in the catalog as one COG (Float32, nodata -9999, 10 m, EPSG:32613, LZW,
overviews). Both servers serve that same file, as 256 px PNG tiles in web mercator, rescaled
from [-20, -2] and coloured with viridis:

* ours: a real standalone server (``python -m wf_widgets.server.standalone``, what
  ``wf-widgets serve`` runs) in its own process, serving a layer ``wf.Image.from_id(<the COG>)``
  with ``scales [[-20, -2]]`` and ``colormap "viridis"`` at ``/tiles/<layer>/<z>/<x>/<y>.png``;
* TiTiler: ``titiler.core``'s ``TilerFactory`` in a FastAPI app under ``uvicorn`` (one
  process, its default thread pool), at
  ``/tiles/WebMercatorQuad/<z>/<x>/<y>.png?url=<the COG>&rescale=-20,-2&colormap_name=viridis&tilesize=256``.

The tiles: every tile of zooms 12 to 15 that overlaps the COG (201), shuffled with a fixed seed and
split into disjoint sets, so an "uncached" request is always a tile that server has never
rendered: a warm-up set (8 tiles, then 16 more with 8 clients: both servers get the same),
the 1-client set (40) and the 8-client sets (8 x 16). The same client for both: one
``http.client`` keep-alive connection per client thread, each request timed from send to
the last byte of the body (status 200 and a PNG checked). With 1 client the two servers
alternate tile by tile (which goes first alternates too); with 8 clients each set is run on
one server then the other, who goes first alternating from set to set (so that the load of
the machine, shared and noisy, weighs on both alike). "Cached" repeats the same
tiles (our server answers from its tile cache; TiTiler has none, so it renders again with
GDAL's block cache warm).

Ratio records (ours / TiTiler, median latency per tile):

* ``tile_server_http_uncached_1``: 1 client, tiles not seen before. Target <= 0.8.
* ``tile_server_http_uncached_8``: 8 clients at once, likewise. Target <= 0.5.

Plain-text figures: the cached latencies, tiles/s of every run, the PNG sizes, how many
pixels of the two servers' tiles are identical, and our latency for the composite itself as
a live layer (the 20-scene mean computed per tile, as a map previews it; TiTiler can't serve
that).

TiTiler is optional (``pip install -e ".[benchmark]"`` installs it): without ``titiler.core``
and ``uvicorn`` the benchmark says so in one line and reports our figures alone.

``python benchmarks/tile_server_http.py --titiler`` runs the TiTiler app alone (it prints
its port, then serves until killed).
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import warnings
from urllib.parse import quote, urlsplit

import numpy as np

try:
    from _common import ratio_record, start_standalone, stop_process, temp_home
except ImportError:  # imported as benchmarks.tile_server_http
    from benchmarks._common import ratio_record, start_standalone, stop_process, temp_home

TARGET_1 = 0.8
TARGET_8 = 0.5
SCALES = (-20.0, -2.0)
COLORMAP = "viridis"
NODATA = -9999.0
ZOOMS = (12, 13, 14, 15)
SEED = 18
CLIENTS = 8
#: Sizes of the disjoint tile sets: warm-up (1 client), warm-up (8 clients), 1 client, each 8-client set.
WARM_1, WARM_8, ONE, EIGHT = 8, 16, 40, 16
#: Number of 8-client sets (the servers take turns going first).
EIGHT_SETS = 8
#: Tiles of the live composite layer timed (ours only).
LIVE = 16


# -- the servers -------------------------------------------------------------------------------
def titiler_available() -> bool:
    """Whether ``titiler.core`` and ``uvicorn`` are importable here."""
    return all(importlib.util.find_spec(name) is not None for name in ("titiler.core", "uvicorn", "fastapi"))


def titiler_server() -> None:
    """Serve TiTiler's COG tiler (``titiler.core.factory.TilerFactory``) on 127.0.0.1 under uvicorn.

    Prints the port (a free one) on its first line, then serves until killed.
    """
    import uvicorn
    from fastapi import FastAPI
    from titiler.core.errors import DEFAULT_STATUS_CODES, add_exception_handlers
    from titiler.core.factory import TilerFactory

    app = FastAPI(title="TiTiler (benchmark reference)")
    app.include_router(TilerFactory().router)
    add_exception_handlers(app, DEFAULT_STATUS_CODES)
    sock = socket.create_server(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])


def _start_titiler() -> tuple[subprocess.Popen, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WF_WIDGETS_")}
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--titiler"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        stop_process(proc)
        raise RuntimeError(f"TiTiler did not start (its first line: {line!r})")
    return proc, int(line)


# -- the data ----------------------------------------------------------------------------------
def _composite_cog(backend) -> tuple[str, str, dict]:
    """Store the demo composite's ``vv`` band as one COG; returns ``(image id, file path, live composite graph)``."""
    import wf_widgets as wf
    from wf_widgets.demo_data import demo_tile, make_demo_data
    from wf_widgets.engine.reading import CatalogReader

    make_demo_data(backend)
    composite = wf.ImageCollection.from_id("sentinel-1:GRD", "2020-01-01", "2020-05-01").mean(axis="images")
    tile = demo_tile()
    vv = composite.compute(tile).ndarray[:1]
    product = wf.catalog.Product(id="bench:composite", name="demo composite", store=backend.catalog).save()
    wf.catalog.GenericBand(name="vv", product_id=product.id, data_type="Float32", nodata=NODATA,
                           data_range=(-50.0, 10.0), band_index=0, store=backend.catalog).save()
    image = wf.catalog.Image(name="mean", product_id=product.id, acquired="2020-03-01", cs_code=tile.crs,
                             geotrans=tile.geotrans, store=backend.catalog)
    image.upload_ndarray(np.ma.masked_array(vv.data.astype(np.float32), mask=np.ma.getmaskarray(vv)), overviews=True)
    path = CatalogReader.for_backend(backend).image_scene(image.id).path
    return image.id, str(path), composite.to_json()


def _tiles(path: str) -> list[tuple[int, int, int]]:
    """Every XYZ tile of :data:`ZOOMS` that overlaps the COG, shuffled with :data:`SEED`."""
    import rasterio
    from rasterio.warp import transform_bounds

    from wf_widgets.engine.render import tile_bounds

    with rasterio.open(path) as src:
        crs, (left, bottom, right, top) = src.crs, src.bounds
    west, south, east, north = transform_bounds(crs, "EPSG:4326", left, bottom, right, top)

    def overlaps(tile: tuple[int, int, int]) -> bool:  # as rio-tiler's tile_exists decides
        x0, y0, x1, y1 = transform_bounds("EPSG:3857", crs, *tile_bounds(*tile), densify_pts=21)
        return x0 < right and x1 > left and y0 < top and y1 > bottom

    def xy(lon: float, lat: float, z: int) -> tuple[int, int]:
        n = 2 ** z
        return int((lon + 180.0) / 360.0 * n), int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)

    tiles = []
    for z in ZOOMS:
        (x0, y0), (x1, y1) = xy(west, north, z), xy(east, south, z)
        tiles += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1) if overlaps((z, x, y))]
    random.Random(SEED).shuffle(tiles)
    return tiles


# -- the client --------------------------------------------------------------------------------
class Server:
    """One server under test: how to name a tile's path, and a keep-alive connection per client."""

    def __init__(self, name: str, host: str, port: int, path_of):
        self.name, self.host, self.port, self.path_of = name, host, port, path_of

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=120)

    def get(self, conn: http.client.HTTPConnection, tile: tuple[int, int, int]) -> tuple[float, bytes]:
        """GET one tile; ``(seconds, PNG bytes)``."""
        path = self.path_of(*tile)
        start = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200 or body[:8] != b"\x89PNG\r\n\x1a\n":
            raise RuntimeError(f"{self.name}: GET {path.split('?')[0]}: {response.status} {body[:200]!r}")
        return elapsed, body


def _one_client(servers: list[Server], tiles: list[tuple[int, int, int]]) -> dict[str, dict]:
    """The servers in turn, tile by tile (who goes first alternates); latencies and tiles/s of each."""
    conns = {s.name: s.connect() for s in servers}
    out = {s.name: {"latencies": [], "busy": 0.0, "bytes": []} for s in servers}
    try:
        for i, tile in enumerate(tiles):
            for s in servers if i % 2 == 0 else servers[::-1]:
                elapsed, body = s.get(conns[s.name], tile)
                out[s.name]["latencies"].append(elapsed)
                out[s.name]["busy"] += elapsed
                out[s.name]["bytes"].append(len(body))
    finally:
        for c in conns.values():
            c.close()
    return out


def _concurrent(server: Server, tiles: list[tuple[int, int, int]], clients: int = CLIENTS) -> tuple[list[float], float]:
    """``clients`` threads, each with its own connection, sharing ``tiles`` round-robin; ``(latencies, wall s)``."""
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(share: list[tuple[int, int, int]]) -> None:
        conn = server.connect()
        try:
            barrier.wait()
            for tile in share:
                elapsed, _ = server.get(conn, tile)
                with lock:
                    latencies.append(elapsed)
        except BaseException as exc:  # reported after the join
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(tiles[i::clients],)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    if errors:
        raise errors[0]
    return latencies, wall


def _eight_clients(servers: list[Server], sets: list[list[tuple[int, int, int]]]) -> dict[str, dict]:
    """Each set on every server, one server after the other (the order turns with each set)."""
    out = {s.name: {"latencies": [], "wall": 0.0, "count": 0} for s in servers}
    for i, tiles in enumerate(sets):
        order = servers[i % len(servers):] + servers[:i % len(servers)]
        for s in order:
            latencies, wall = _concurrent(s, tiles)
            out[s.name]["latencies"] += latencies
            out[s.name]["wall"] += wall
            out[s.name]["count"] += len(tiles)
    return out


def _pixels(png: bytes) -> np.ndarray:
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.MemoryFile(png) as f, f.open() as src:
            return src.read()


def _same_pixels(servers: list[Server], tiles: list[tuple[int, int, int]]) -> str:
    """How alike the two servers' tiles are (mask, and colours where both show the pixel)."""
    shape, equal_alpha, equal_rgb, shown = set(), 0, 0, 0
    for tile in tiles:
        images = []
        for s in servers:
            conn = s.connect()
            try:
                images.append(_pixels(s.get(conn, tile)[1]))
            finally:
                conn.close()
        ours, theirs = images
        shape.add((ours.shape, theirs.shape))
        both = (ours[3] == 255) & (theirs[3] == 255)
        equal_alpha += int((ours[3] == theirs[3]).sum())
        equal_rgb += int((ours[:3, both] == theirs[:3, both]).all(axis=0).sum())
        shown += int(both.sum())
    total = len(tiles) * 256 * 256
    return (f"{len(tiles)} tiles, shapes {sorted(shape)}: the same mask at {100 * equal_alpha / total:.2f}% of the "
            f"pixels, the same RGB at {100 * equal_rgb / max(shown, 1):.2f}% of the pixels both show")


# -- the benchmark -----------------------------------------------------------------------------
def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def run() -> list[dict]:
    """Time our tile server against TiTiler over HTTP; see the module docstring."""
    with temp_home("wf-widgets-tile-http-"):
        return _run()


def _run() -> list[dict]:
    import wf_widgets as wf
    from wf_widgets.backend import Backend
    from wf_widgets.config import Settings

    backend = Backend(Settings.from_env(), sweep=False)
    previous = wf.set_backend(backend)
    procs: list[subprocess.Popen] = []
    records: list[dict] = []
    try:
        image_id, path, live_graph = _composite_cog(backend)
        options = {"scales": [list(SCALES)], "colormap": COLORMAP, "checkerboard": False}
        layer = backend.layers.put(wf.Image.from_id(image_id).to_json(), options, name="composite COG")
        live = backend.layers.put(live_graph, options, name="composite")
        proc, url = start_standalone(os.environ["WF_WIDGETS_HOME"])
        procs.append(proc)
        parts = urlsplit(url)
        ours = Server("ours", parts.hostname, parts.port, lambda z, x, y: f"/tiles/{layer['id']}/{z}/{x}/{y}.png?v={layer['version']}")
        servers = [ours]
        if titiler_available():
            proc, port = _start_titiler()
            procs.append(proc)
            query = (f"url={quote(path)}&rescale={SCALES[0]:g},{SCALES[1]:g}&colormap_name={COLORMAP}"
                     "&tilesize=256")
            servers.append(Server("titiler", "127.0.0.1", port,
                                  lambda z, x, y: f"/tiles/WebMercatorQuad/{z}/{x}/{y}.png?{query}"))
        else:
            records.append({"name": "tile_server_http_titiler", "text": (
                "tile_server_http: TiTiler skipped: titiler.core and uvicorn are not installed "
                "(pip install -e \".[benchmark]\"); our figures alone follow")})

        tiles = _tiles(path)
        need = WARM_1 + WARM_8 + ONE + EIGHT_SETS * EIGHT
        if len(tiles) < need:
            raise RuntimeError(f"only {len(tiles)} tiles over the area, {need} needed")
        warm_1, rest = tiles[:WARM_1], tiles[WARM_1:]
        warm_8, rest = rest[:WARM_8], rest[WARM_8:]
        one, rest = rest[:ONE], rest[ONE:]
        eight = [rest[i * EIGHT:(i + 1) * EIGHT] for i in range(EIGHT_SETS)]

        # The same warm-up for both: imports, the file opened, thread pools started.
        _one_client(servers, warm_1)
        _eight_clients(servers, [warm_8])

        uncached_1 = _one_client(servers, one)
        cached_1 = _one_client(servers, one)
        uncached_8 = _eight_clients(servers, eight)
        cached_8 = _eight_clients(servers, eight)

        def line(label: str, one_run: dict, eight_run: dict) -> str:
            parts = []
            for s in servers:
                a, b = one_run[s.name], eight_run[s.name]
                parts.append(f"{s.name} {_ms(statistics.median(a['latencies']))} at 1 client "
                             f"({len(a['latencies']) / a['busy']:.1f} tiles/s), "
                             f"{_ms(statistics.median(b['latencies']))} at {CLIENTS} "
                             f"({b['count'] / b['wall']:.1f} tiles/s)")
            return f"tile_server_http_{label}: median latency per tile: " + "; ".join(parts)

        if len(servers) == 2:
            for label, run_, target in (("uncached_1", uncached_1, TARGET_1), ("uncached_8", uncached_8, TARGET_8)):
                records.append(ratio_record(f"tile_server_http_{label}", statistics.median(run_["ours"]["latencies"]),
                                            statistics.median(run_["titiler"]["latencies"]), target))
        records.append({"name": "tile_server_http_uncached", "text": line("uncached", uncached_1, uncached_8)})
        no_cache = " (TiTiler has no tile cache: it renders again)" if len(servers) == 2 else ""
        records.append({"name": "tile_server_http_cached", "text": line("cached", cached_1, cached_8) + no_cache})
        sizes = "; ".join(f"{s.name} {statistics.median(uncached_1[s.name]['bytes']) / 1024:.1f} KiB"
                          for s in servers)
        zooms = ", ".join(f"z{z}: {sum(t[0] == z for t in one)}" for z in ZOOMS)
        records.append({"name": "tile_server_http_tiles", "text": (
            f"tile_server_http_tiles: 256 px RGBA PNG, median size {sizes}; 1-client set {len(one)} tiles ({zooms}), "
            f"{CLIENTS}-client sets {EIGHT_SETS} x {EIGHT}")})
        if len(servers) == 2:
            records.append({"name": "tile_server_http_pixels",
                            "text": "tile_server_http_pixels: " + _same_pixels(servers, one[:8])})

        # Our composite as a live layer (the 20-scene mean per tile), on tiles not rendered yet.
        live_server = Server("ours-live", parts.hostname, parts.port,
                             lambda z, x, y: f"/tiles/{live['id']}/{z}/{x}/{y}.png?v={live['version']}")
        live_tiles = (warm_1 + warm_8)[:LIVE]  # new to the live layer
        first = _one_client([live_server], live_tiles)["ours-live"]["latencies"]
        again = _one_client([live_server], live_tiles)["ours-live"]["latencies"]
        records.append({"name": "tile_server_http_live", "text": (
            f"tile_server_http_live: ours serving the composite itself (mean of 20 scenes per tile), 1 client: "
            f"median {_ms(statistics.median(first))} rendered, {_ms(statistics.median(again))} cached "
            f"({len(live_tiles)} tiles)")})
        return records
    finally:
        for proc in procs:
            stop_process(proc)
        wf.set_backend(previous)
        backend.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["--titiler"]:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        titiler_server()
    else:
        for record in run():
            print(json.dumps(record) if "ratio" in record else record["text"], flush=True)
