"""TileMap at state level: previews, the probe's fallback, the log, selection by click, draw and viewport."""

from __future__ import annotations

import os

import ipyleaflet
import pytest
import shapely

import wf_widgets as wf
from wf_widgets.errors import ValidationError
from wf_widgets.geo import DLTile
from wf_widgets.server import registry
from wf_widgets.server.testing import fetch
from wf_widgets.widgets import TileMap
from wf_widgets.widgets._map_server import resolve_tile_server

from ..widgets.conftest import ManualLoop, wait_until
from .conftest import WEST, point

CENTER = point(100, 100)[::-1]  # (lat, lon) of the known image's centre


def rectangle(west, south, east, north) -> dict:
    """A GeoJSON Feature as leaflet-draw sends it for a rectangle."""
    return {"type": "Feature", "properties": {"style": {}},
            "geometry": shapely.geometry.mapping(shapely.box(west, south, east, north))}


def draw(m: TileMap, feature: dict, action: str = "created") -> None:
    """What ipyleaflet does when leaflet-draw reports a shape."""
    m.draw_control._handle_leaflet_event(None, {"event": f"draw:{action}", "geo_json": feature}, [])


def click(m: TileMap, key: str) -> None:
    """What ipyleaflet does when a grid tile is clicked."""
    feature = next(f for f in m.grid_layer.data["features"] if f["properties"]["key"] == key)
    m.grid_layer._handle_mouse_events(None, {"event": "click", "feature": feature, "properties": feature["properties"],
                                             "id": feature.get("id"), "coordinates": [0, 0]}, [])


def set_view(m: TileMap, west, south, east, north) -> None:
    """What the browser reports when the map is moved."""
    m.set_state({"west": west, "south": south, "east": east, "north": north})


@pytest.fixture
def tile_map(map_backend):
    m = TileMap(center=CENTER, zoom=14, tile_size=256)
    yield m
    m.close()


def test_unknown_keyword_arguments_are_refused(map_backend):
    with pytest.raises(TypeError, match="TileMap\\(\\) got unexpected keyword argument\\(s\\) 'tile_sise'"):
        TileMap(tile_sise=256)


def test_preview_adds_a_tile_layer_served_by_our_server(known, tile_map, map_backend):
    layer = tile_map.preview(known, scales=(0, 4000))
    assert layer.name == "known"  # the caller's variable name
    leaflet = layer.leaflet
    assert isinstance(leaflet, ipyleaflet.TileLayer) and leaflet in tile_map.layers
    server = resolve_tile_server(map_backend)
    assert server.kind == "thread"
    assert leaflet.url == f"{server.base}/tiles/{layer.layer_id}/{{z}}/{{x}}/{{y}}.png?v=1"
    assert leaflet.url.startswith("http://127.0.0.1:")
    assert tile_map.probe.url == f"{server.base}/health"
    assert "checking this browser reaches it" in tile_map.status
    r = fetch(leaflet.url.replace("{z}", "14").replace("{x}", "3000").replace("{y}", "6000"))
    assert r.status == 200 and r.headers["Content-Type"] == "image/png"
    # same name: replaced in place, same id, new version, one layer and one panel row
    again = tile_map.preview(known, name="known", scales=(0, 2000), colormap="magma")
    assert again is layer and layer.version == 2 and layer.leaflet.url.endswith("?v=2")
    assert sum(isinstance(x, ipyleaflet.TileLayer) and x.name == "known" for x in tile_map.layers) == 1
    assert len(tile_map.layers_box.children) == 1
    # the opacity slider drives the layer
    layer.opacity.value = 0.4
    assert layer.leaflet.opacity == 0.4
    tile_map.probe.set_state({"reachable": True, "checked_url": tile_map.probe.url})
    assert tile_map.status.startswith("Tiles from a server inside this kernel")


def test_autoscale_from_the_view(known, tile_map):
    layer = tile_map.preview(known, name="auto")
    lo, hi = layer.scales[0]
    assert WEST - 1 <= lo <= WEST and 3000 <= hi <= 3001  # 2nd and 98th percentiles of 1000 / 3000 pixels
    tile_map.center = (0.0, 0.0)  # nowhere near the data
    tile_map.preview(known, name="empty")
    assert tile_map.previews["empty"].scales is None
    assert "nothing unmasked in view" in tile_map.messages[-1]


def test_preview_checks_its_arguments(known, tile_map):
    with pytest.raises(ValidationError, match="shows an Image or an ImageCollection, not a Int"):
        tile_map.preview(wf.Int(1))
    with pytest.raises(ValidationError, match="Unknown colormap 'jet'"):
        tile_map.preview(known, colormap="jet")
    with pytest.raises(ValidationError, match="2 \\(min, max\\) pairs for 1 shown band"):
        tile_map.preview(known, scales=[(0, 1), (0, 2)])
    rgb = known.concat_bands(known).concat_bands(known)
    with pytest.raises(ValidationError, match="colormap 'viridis' applies to one band"):
        tile_map.preview(rgb, colormap="viridis")
    assert tile_map.previews == {}


def test_an_image_collection_is_previewed_as_its_mosaic(known, tile_map):
    collection = wf.ImageCollection.from_id("org:known")
    layer = tile_map.preview(collection, scales=(0, 4000))
    assert layer.name == "collection" and layer.value.kind == "Image" and layer.value.node.op == "mosaic"


def test_jupyter_extension_tiles_are_paths_on_the_page_origin(known, map_backend, monkeypatch):
    path = registry.register(map_backend.settings, "http://127.0.0.1:9/jl/wf-widgets", "jupyter")
    monkeypatch.setenv("JPY_PARENT_PID", str(os.getpid()))
    try:
        m = TileMap(center=CENTER, zoom=14)
        layer = m.preview(known, scales=(0, 1))
        assert layer.leaflet.url.startswith(f"/jl/wf-widgets/tiles/{layer.layer_id}/{{z}}/")
        assert m.probe.url == "/jl/wf-widgets/health"
        assert "the Jupyter server extension" in m.status
        m.close()
        monkeypatch.setenv("JPY_PARENT_PID", "1")  # started by another Jupyter server: not this one
        assert resolve_tile_server(map_backend).kind == "thread"
    finally:
        registry.unregister(path)


def test_public_url_tiles_are_absolute(map_backend):
    map_backend.settings.public_url = "https://maps.example.org/wf/"
    try:
        server = resolve_tile_server(map_backend)
        assert (server.kind, server.base) == ("public_url", "https://maps.example.org/wf")
    finally:
        map_backend.settings.public_url = None


def test_unreachable_server_falls_back_to_an_image_overlay(known, tile_map):
    layer = tile_map.preview(known, scales=(0, 4000))
    tile_map.probe.set_state({"reachable": False, "checked_url": tile_map.probe.url})
    assert tile_map.fallback
    overlay = layer.leaflet
    assert isinstance(overlay, ipyleaflet.ImageOverlay) and overlay in tile_map.layers
    assert overlay.url.startswith("data:image/png;base64,")
    assert not any(isinstance(x, ipyleaflet.TileLayer) and x.name == "known" for x in tile_map.layers)
    assert "not reachable from this browser: previews are static images of the view" in tile_map.status
    assert "`wf-widgets voila`" in tile_map.status and "WF_WIDGETS_PUBLIC_URL" in tile_map.status
    # the view moves: rendered again for the new view
    set_view(tile_map, *point(0, 200), *point(200, 0))
    assert layer.leaflet is not overlay and layer.leaflet.bounds[0][0] == pytest.approx(point(0, 200)[1])
    # a new preview in fallback mode is an overlay too
    other = tile_map.preview(known, name="other", scales=(0, 1))
    assert isinstance(other.leaflet, ipyleaflet.ImageOverlay)
    tile_map.probe.set_state({"reachable": True})
    assert isinstance(layer.leaflet, ipyleaflet.TileLayer) and not tile_map.fallback


def test_a_failing_layer_shows_in_the_log(known, tile_map, map_backend):
    layer = tile_map.preview(known, scales=(0, 4000))
    _break(layer, known, map_backend)
    url = f"{tile_map.tile_server.base}/tiles/{layer.layer_id}/14/3000/6000.png?v={layer.version}"
    assert fetch(url).status == 400  # our own error: its text is the answer
    assert fetch(url.replace("/3000/", "/3001/")).status == 400
    rows = tile_map.poll_errors()
    assert len(rows) == 2
    assert len(tile_map.messages) == 1  # the same message twice: one line with a count
    line = tile_map.messages[0]
    assert "known: tile 14/3000/6000 and 1 more failed: NotFound: Unknown image id 'org:known:gone'" in line
    assert "Unknown image id" in tile_map.log_view.value
    assert tile_map.poll_errors() == []


def test_fallback_render_errors_show_in_the_log(known, tile_map, map_backend):
    layer = tile_map.preview(known, scales=(0, 1))
    tile_map.probe.set_state({"reachable": False, "checked_url": tile_map.probe.url})
    assert layer.leaflet.url.startswith("data:image/png")
    wf.catalog.Product.get("org:known").delete(cascade=True)
    set_view(tile_map, *point(0, 200), *point(200, 0))
    assert layer.leaflet.url == ""
    assert "known: the view's image failed: NotFound" in tile_map.messages[-1]


# -- selection ------------------------------------------------------------------------------------
def test_grid_of_the_view_and_click_to_select(tile_map):
    set_view(tile_map, -106.01, 35.66, -105.95, 35.70)
    keys = [f["properties"]["key"] for f in tile_map.grid_layer.data["features"]]
    expected = DLTile.from_shape(shapely.box(-106.01, 35.66, -105.95, 35.70), 10, 256, 0, keys_only=True)
    assert keys == expected and len(keys) > 4
    click(tile_map, keys[2])
    click(tile_map, keys[0])
    assert tile_map.selected_keys == [keys[2], keys[0]]
    assert [t.key for t in tile_map.selected_tiles] == [keys[2], keys[0]]
    styles = {f["properties"]["key"]: f["properties"]["selected"] for f in tile_map.grid_layer.data["features"]}
    assert styles[keys[0]] and styles[keys[2]] and not styles[keys[1]]
    assert "2 tiles selected" in tile_map.selection_line.value
    assert "131,072 pixels" in tile_map.selection_line.value and "1.0 MiB per band as float64" in tile_map.selection_line.value
    click(tile_map, keys[2])
    assert tile_map.selected_keys == [keys[0]]


def test_draw_a_rectangle_or_a_polygon_selects_what_it_meets(tile_map):
    box = (-106.0, 35.6, -105.9, 35.7)
    draw(tile_map, rectangle(*box))
    expected = DLTile.from_shape(shapely.box(*box), 10, 256, 0, keys_only=True)
    assert tile_map.selected_keys == expected
    polygon = {"type": "Feature", "properties": {},
               "geometry": {"type": "Polygon", "coordinates": [[[-105.8, 35.6], [-105.7, 35.6], [-105.75, 35.7],
                                                                 [-105.8, 35.6]]]}}
    draw(tile_map, polygon)
    triangle = DLTile.from_shape(polygon, 10, 256, 0, keys_only=True)
    assert tile_map.selected_keys == expected + triangle
    tile_map.draw_mode = "remove"
    draw(tile_map, polygon)
    assert tile_map.selected_keys == expected
    draw(tile_map, rectangle(*box), action="deleted")  # only "created" selects
    assert tile_map.selected_keys == expected


def test_draw_across_a_utm_zone_boundary(tile_map):
    tile_map.tile_resolution = 30.0
    box = (-102.1, 35.0, -101.9, 35.1)  # lon -102 separates zones 13 and 14
    draw(tile_map, rectangle(*box))
    zones = {DLTile.from_key(k).zone for k in tile_map.selected_keys}
    assert zones == {13, 14}
    assert tile_map.selected_keys == DLTile.from_shape(shapely.box(*box), 30, 256, 0, keys_only=True)
    assert all(k.startswith("256:0:30.0:") for k in tile_map.selected_keys)
    assert len(tile_map.selected_keys) == len(set(tile_map.selected_keys))


def test_use_viewport_and_clear(tile_map):
    set_view(tile_map, -106.01, 35.66, -105.95, 35.70)
    keys = tile_map.use_viewport()
    assert tile_map.selected_keys == keys == [f["properties"]["key"] for f in tile_map.grid_layer.data["features"]]
    tile_map.clear_selection()
    assert tile_map.selected_keys == [] and "No tile selected" in tile_map.selection_line.value


def test_too_many_tiles_in_view(tile_map):
    set_view(tile_map, -110.0, 30.0, -100.0, 40.0)
    assert "More than 2,000 tiles in view" in tile_map.grid_note.value
    assert tile_map.grid_layer.data["features"] == []
    tile_map._on_use_viewport()  # the button: the error is shown, not raised
    assert "more than 10,000 tiles" in tile_map.callback_error and tile_map.selected_keys == []
    assert "more than 10,000 tiles" in tile_map.error_line.value
    draw(tile_map, rectangle(-106.0, 35.6, -105.98, 35.62))
    assert tile_map.callback_error == ""
    shown = [f["properties"]["key"] for f in tile_map.grid_layer.data["features"]]
    assert shown == tile_map.selected_keys  # only the selected tiles are drawn
    draw(tile_map, rectangle(-110.0, 30.0, -100.0, 40.0))
    assert "The shape meets more than 10,000 tiles" in tile_map.callback_error


def test_changing_the_grid_clears_the_selection(tile_map):
    draw(tile_map, rectangle(-106.0, 35.6, -105.99, 35.61))
    n = len(tile_map.selected_keys)
    tile_map.tile_size = 512
    assert tile_map.selected_keys == []
    assert f"{n} selected tile(s)" not in tile_map.messages[-1]
    assert f"tile_size = 512): {n} tile{'s' if n != 1 else ''} deselected" in tile_map.messages[-1]
    keys = [f["properties"]["key"] for f in tile_map.grid_layer.data["features"]]
    assert keys and all(k.startswith("512:0:10.0:") for k in keys)


def test_selection_estimate_counts_the_previewed_bands(known, tile_map):
    tile_map.preview(known.concat_bands(known), name="two", scales=(0, 1))
    tile_map.select([DLTile.from_latlon(35.6870, -105.9378, 10, 256, 2)])
    assert "67,600 pixels" in tile_map.selection_line.value  # (256 + 2 * 2) ** 2
    assert "1.0 MiB as float64 (2 bands)" in tile_map.selection_line.value


def test_close_deletes_the_layers(known, map_backend):

    m = TileMap(center=CENTER, zoom=14)
    layer = m.preview(known, scales=(0, 1))
    assert map_backend.layers.get(layer.layer_id) is not None
    m.close()
    assert map_backend.layers.get(layer.layer_id) is None


def _break(layer, known, backend) -> None:
    """Store a graph for the layer that fails when rendered (its image is gone), as preview() would."""

    graph = known.to_json()
    for node in graph["nodes"].values():
        for arg in node["args"]:
            if arg.get("lit") == "org:known:img":
                arg["lit"] = "org:known:gone"
    layer.version = backend.layers.put(graph, layer.options, name=layer.name, layer_id=layer.layer_id)["version"]


def test_in_a_kernel_the_poller_brings_errors_into_the_log(known, map_backend):
    import asyncio

    async def main():
        m = TileMap(center=CENTER, zoom=14)  # built on a running loop: it polls the store itself
        layer = m.preview(known, scales=(0, 1))
        _break(layer, known, map_backend)
        url = f"{m.tile_server.base}/tiles/{layer.layer_id}/14/3000/6000.png?v={layer.version}"
        status = (await asyncio.get_running_loop().run_in_executor(None, fetch, url)).status
        for _ in range(200):  # the poller hands rows to this loop about once a second
            if m.messages:
                break
            await asyncio.sleep(0.05)
        messages = list(m.messages)
        m.close()
        return status, messages

    status, messages = asyncio.run(main())
    assert status == 400
    assert len(messages) == 1 and "known: tile 14/3000/6000 failed: NotFound" in messages[0]


def test_in_a_kernel_an_error_reading_the_layer_store_is_shown(known, map_backend, monkeypatch):
    import asyncio

    def broken(ids, after):
        raise RuntimeError("the layer store is gone")

    async def main():
        m = TileMap(center=CENTER, zoom=14)  # built on a running loop: it polls the store itself
        monkeypatch.setattr(map_backend.layers, "errors", broken)
        m.preview(known, scales=(0, 1))
        for _ in range(200):  # the poller hands the error to this loop
            if m.callback_error:
                break
            await asyncio.sleep(0.05)
        shown = m.callback_error, m.error_line.value
        m.close()
        return shown

    error, line = asyncio.run(main())
    assert error == "RuntimeError: the layer store is gone"
    assert "the layer store is gone" in line


def test_errors_read_while_the_loop_lags_are_not_lost(known, map_backend):
    m = TileMap(center=CENTER, zoom=14)
    loop = ManualLoop()  # a kernel loop that runs callbacks only when the test says so
    m._poller.loop, m._poller.interval = loop, 0.05
    reads = []
    read = m._read_errors
    m._read_errors = lambda: reads.append(read()) or reads[-1]
    layer = m.preview(known, scales=(0, 1))
    _break(layer, known, map_backend)
    url = f"{m.tile_server.base}/tiles/{layer.layer_id}/14/3000/6000.png?v={layer.version}"
    assert fetch(url).status == 400
    wait_until(lambda: loop.pending, what="the first error handed to the loop")
    assert fetch(url.replace("/3000/", "/3001/")).status == 400
    wait_until(lambda: any(len(rows) == 2 for rows in reads), what="a read of both errors")
    loop.run()  # the loop applies the newest read only: it holds both errors
    assert len(m.messages) == 1 and "tile 14/3000/6000 and 1 more failed" in m.messages[0]
    assert m.poll_errors() == []
    m.close()


# -- the side panel: one line by default ----------------------------------------------------------------
def test_the_panel_is_one_line_until_opened(known, tile_map):
    assert tile_map.panel_open is False
    assert tile_map.panel_body.layout.display == "none"  # the controls, status and log are hidden
    assert tile_map.summary == "No tile selected"
    assert "white-space:nowrap" in tile_map.summary_line.value and "text-overflow:ellipsis" in tile_map.summary_line.value
    set_view(tile_map, -106.01, 35.66, -105.95, 35.70)
    keys = [f["properties"]["key"] for f in tile_map.grid_layer.data["features"]]
    click(tile_map, keys[0])
    assert tile_map.summary == "1 tile selected · 512.0 KiB per band"  # not "1 tiles"
    assert "<b>1 tile selected</b>" in tile_map.selection_line.value
    click(tile_map, keys[1])
    tile_map.preview(known, scales=(0, 4000))
    # the size the selection line gives in words, and the form's estimate (one function): 2 x 256 x 256 x 8 bytes
    assert tile_map.summary == "2 tiles selected · 1.0 MiB"
    assert "about 1.0 MiB as float64 (1 band)" in tile_map.selection_line.value
    assert "2 tiles selected · 1.0 MiB" in tile_map.summary_line.value
    tile_map.panel_open = True
    assert tile_map.panel_body.layout.display is None
    tile_map.panel_open = False
    assert tile_map.panel_body.layout.display == "none"


def test_the_collapsed_line_flags_what_needs_a_look_and_an_error_opens_the_panel(tile_map):
    tile_map.fallback = True
    assert tile_map.summary == "No tile selected · static previews"
    assert not tile_map.panel_open
    draw(tile_map, rectangle(-110.0, 30.0, -100.0, 40.0))  # too many tiles: a callback error
    assert "The shape meets more than 10,000 tiles" in tile_map.callback_error
    assert tile_map.panel_open and tile_map.panel_body.layout.display is None
    assert tile_map.summary == "No tile selected · static previews, error"
