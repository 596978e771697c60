"""GET tiles/<layer id>/<z>/<x>/<y>.png on the kernel-thread and standalone mounts."""

from __future__ import annotations

import pytest

from wf_widgets.layers import new_layer_id, valid_layer_id
from wf_widgets.server import ensure_thread_server, tiles
from wf_widgets.server.testing import fetch

from .._graphs import attribute_chain, raw, raw_graph, source
from .conftest import EAST, SIZE, WEST, decode_png, pixel_at, point


def put_layer(backend, value, **options):
    opts = {"scales": [[0, 4000]], "colormap": None, "checkerboard": False}
    opts.update(options)
    return backend.layers.put(value.to_json(), opts, name="known")


def tile_url(base, layer, z, x, y):
    return f"{base}/tiles/{layer['id']}/{z}/{x}/{y}.png?v={layer['version']}"


def test_layer_ids_are_128_random_bits():
    ids = {new_layer_id() for _ in range(100)}
    assert len(ids) == 100 and all(valid_layer_id(i) and len(i) == 32 for i in ids)
    assert not valid_layer_id("../" + "0" * 29) and not valid_layer_id("A" * 32)


@pytest.mark.parametrize("mount", ["thread", "standalone"])
def test_known_pixels_in_a_rendered_tile(known, map_backend, app_server, mount):
    base = ensure_thread_server(map_backend) if mount == "thread" else app_server("/wf-widgets/")
    layer = put_layer(map_backend, known)
    west = pixel_at(*point(25.5, 50.5))  # deep inside the west half
    east = pixel_at(*point(SIZE - 25.5, 50.5))
    masked = pixel_at(*point(25.5, SIZE - 25.5))  # inside the nodata block
    outside = pixel_at(*point(-300, 50))  # west of the image
    for (z, x, y, col, row), expected in ((west, WEST), (east, EAST)):
        r = fetch(tile_url(base, layer, z, x, y))
        assert r.status == 200 and r.headers["Content-Type"] == "image/png"
        level = expected * 255 // 4000  # floor, as rio-tiler rescales (gray is the identity at these levels)
        assert decode_png(r.body)[row, col].tolist() == [level, level, level, 255]
    for z, x, y, col, row in (masked, outside):
        r = fetch(tile_url(base, layer, z, x, y))
        assert decode_png(r.body)[row, col, 3] == 0  # masked: transparent


def test_colormap_and_checkerboard(known, map_backend):
    base = ensure_thread_server(map_backend)
    z, x, y, col, row = pixel_at(*point(25.5, 50.5))
    layer = put_layer(map_backend, known, colormap="viridis", scales=[[0, 1000]])
    assert decode_png(fetch(tile_url(base, layer, z, x, y)).body)[row, col].tolist() == [253, 231, 36, 255]
    z, x, y, col, row = pixel_at(*point(25.5, SIZE - 25.5))
    layer = put_layer(map_backend, known, checkerboard=True)
    pixel = decode_png(fetch(tile_url(base, layer, z, x, y)).body)[row, col]
    assert pixel[3] == 200 and pixel[0] in (196, 236)


def test_cache_etag_and_versions(known, map_backend):
    base = ensure_thread_server(map_backend)
    tiles.CACHE.clear()
    layer = put_layer(map_backend, known)
    z, x, y, col, row = pixel_at(*point(25.5, 50.5))
    first = fetch(tile_url(base, layer, z, x, y))
    hits = tiles.CACHE.hits
    second = fetch(tile_url(base, layer, z, x, y))
    assert second.body == first.body and tiles.CACHE.hits == hits + 1
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == tiles.CACHE_CONTROL
    assert fetch(tile_url(base, layer, z, x, y), headers={"If-None-Match": etag}).status == 304
    # replacing the layer bumps its version: the next tile is rendered with the new options
    replaced = map_backend.layers.put(known.to_json(), {"scales": [[0, 2000]]}, layer_id=layer["id"])
    assert replaced["version"] == layer["version"] + 1
    third = fetch(tile_url(base, replaced, z, x, y))
    assert decode_png(third.body)[row, col, 0] == WEST * 255 // 2000


def test_unknown_layer_and_tiles_outside_the_grid(known, map_backend):
    base = ensure_thread_server(map_backend)
    layer = put_layer(map_backend, known)
    r = fetch(f"{base}/tiles/{new_layer_id()}/3/1/1.png")
    assert r.status == 404 and "Unknown layer" in r.text
    assert fetch(f"{base}/tiles/{layer['id']}/3/8/1.png").status == 404
    assert fetch(f"{base}/tiles/{layer['id']}/30/0/0.png").status == 404
    assert fetch(f"{base}/tiles/not-a-layer/3/1/1.png").status == 404


def test_a_failing_layer_answers_400_with_our_message_and_records_it(known, map_backend):
    base = ensure_thread_server(map_backend)
    graph = known.to_json()
    for node in graph["nodes"].values():  # a product removed after the graph was built
        for arg in node["args"]:
            if arg.get("lit") == "org:known:img":
                arg["lit"] = "org:known:gone"
    layer = map_backend.layers.put(graph, {"scales": [[0, 1]]}, name="broken")
    z, x, y, _, _ = pixel_at(*point(25.5, 50.5))
    r = fetch(tile_url(base, layer, z, x, y))
    assert r.status == 400
    assert "NotFound: Unknown image id 'org:known:gone'" in r.text
    errors = map_backend.layers.errors([layer["id"]])
    assert len(errors) == 1 and (errors[0]["z"], errors[0]["x"], errors[0]["y"]) == (z, x, y)
    assert errors[0]["message"] == r.text.strip() and errors[0]["version"] == layer["version"]
    assert map_backend.layers.errors([layer["id"]], after=errors[0]["n"]) == []


def test_only_images_render(map_backend):
    import wf_widgets as wf

    layer = map_backend.layers.put((wf.Int(1) + 1).to_json(), {})
    response = tiles.get_tile(map_backend, layer["id"], 0, 0, 0, cache=None)
    assert response.status == 400 and b"Only an Image can be rendered, not a Int" in response.body


def test_rendering_runs_off_the_event_loop(known, map_backend):
    """Many tiles at once: all answered (the render pool, not the loop, does the work)."""
    from concurrent.futures import ThreadPoolExecutor

    base = ensure_thread_server(map_backend)
    layer = put_layer(map_backend, known)
    z, x, y, _, _ = pixel_at(*point(100, 100), z=13)
    urls = [tile_url(base, layer, z, x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    with ThreadPoolExecutor(9) as pool:
        statuses = [r.status for r in pool.map(fetch, urls)]
    assert statuses == [200] * 9
    assert fetch(f"{base}/health").status == 200


def test_layer_store_prunes_old_layers(map_backend):
    store = map_backend.layers
    layer = store.put({"kind": "Image"}, {})
    store.record_error(layer["id"], 1, 0, 0, 0, "boom")
    assert store.prune(keep_days=-1) == 1
    assert store.get(layer["id"]) is None and store.errors([layer["id"]]) == []


SECRET_URL = "smtp://mailer:hunter2-secret@127.0.0.1:2525"


@pytest.fixture
def secret_backend(make_backend):
    """A backend whose settings hold an SMTP password, with the known product; its servers stopped after."""
    from wf_widgets.server import stop_thread_server

    from ..engine._helpers import make_product

    b = make_backend(smtp_url=SECRET_URL)
    make_product(b.catalog, "org:p")
    yield b
    stop_thread_server(b)


def raw_layer(backend, graph: dict):
    """Store a layer whose graph is ``graph``, raw JSON (as a crafted row would hold it)."""
    return backend.layers.put(graph, {"scales": [[0, 1]]}, name="crafted")


def test_a_crafted_layer_walking_attributes_gets_400_and_leaks_nothing(secret_backend):
    nodes: dict = {}
    chain = attribute_chain(nodes, source(nodes), "source", "ctx", "backend", "settings", "smtp_url")
    layer = raw_layer(secret_backend, raw_graph(nodes, raw(nodes, "int", chain), "Image"))  # int('smtp://...') raises
    base = ensure_thread_server(secret_backend)
    r = fetch(tile_url(base, layer, 3, 1, 1))
    assert r.status == 400
    assert "Unknown value 'source' for 'datetime_part.name'; allowed: 'year'" in r.text
    assert "hunter2" not in r.text
    errors = secret_backend.layers.errors([layer["id"]])
    assert len(errors) == 1 and errors[0]["message"] == r.text.strip()


def test_an_unexpected_render_error_answers_a_generic_500(secret_backend, caplog):
    nodes: dict = {}
    layer = raw_layer(secret_backend, raw_graph(nodes, raw(nodes, "int", raw(nodes, "lit", "hunter2-secret")), "Image"))
    base = ensure_thread_server(secret_backend)
    with caplog.at_level("DEBUG", logger="wf_widgets"):
        r = fetch(tile_url(base, layer, 3, 1, 1))
    assert r.status == 500
    assert "render failed" in r.text.lower() and "hunter2" not in r.text
    errors = secret_backend.layers.errors([layer["id"]])
    assert len(errors) == 1 and "hunter2" not in errors[0]["message"]
    assert "ValueError" in caplog.text and "hunter2" not in caplog.text


def test_a_tile_over_max_memory_is_refused_before_reading(make_backend, monkeypatch):
    import wf_widgets as wf
    from wf_widgets.engine import raster
    from wf_widgets.server import stop_thread_server

    from ..engine._helpers import make_product, upload
    from .conftest import CRS, IMAGE, ORIGIN, PRODUCT, RES, known_array

    b = make_backend(max_memory="100kB")  # a 256 x 256 tile of one band needs about 1.2 MB
    try:
        make_product(b.catalog, PRODUCT, bands=("b1",))
        upload(b.catalog, PRODUCT, "img", known_array(), CRS, (ORIGIN[0], RES, 0.0, ORIGIN[1], 0.0, -RES))
        layer = put_layer(b, wf.Image.from_id(IMAGE))

        def no_reads(*args, **kwargs):
            raise AssertionError("a scene was read")

        monkeypatch.setattr(raster, "read_scene", no_reads)
        z, x, y, _, _ = pixel_at(*point(25.5, 50.5))
        r = fetch(tile_url(ensure_thread_server(b), layer, z, x, y))
        assert r.status == 400
        assert "needs an estimated 1.1 MiB of memory, more than the limit max_memory = 97.7 KiB" in r.text
        assert "WF_WIDGETS_MAX_MEMORY" in r.text
    finally:
        stop_thread_server(b)
