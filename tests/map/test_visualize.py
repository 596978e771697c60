"""``value.visualize(...)`` and ``wf.map``: the original client's way to put imagery on a map."""

from __future__ import annotations

import subprocess
import sys

import pytest

import wf_widgets as wf
from wf_widgets.errors import ValidationError
from wf_widgets.widgets import TileMap, default_map

from .conftest import point

CENTER = point(100, 100)[::-1]


@pytest.fixture
def the_map(map_backend):
    """``wf.map``, closed afterwards (the next ``wf.map`` is a new one)."""
    m = wf.map
    m.center, m.zoom = CENTER, 14
    yield m
    m.close()


def test_wf_map_is_one_tile_map_made_on_first_use(the_map):
    assert isinstance(the_map, TileMap) and wf.map is the_map and "map" in dir(wf)
    the_map.close()
    again = wf.map
    assert again is not the_map and isinstance(again, TileMap)
    again.close()


def test_importing_the_package_makes_no_map():
    code = "import sys, wf_widgets; assert 'ipyleaflet' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_visualize_adds_or_updates_a_layer_on_wf_map(known, the_map):
    layer = known.visualize("known layer", scales=(0, 4000))
    assert the_map.previews == {"known layer": layer} and layer.scales == [[0.0, 4000.0]]
    assert layer.checkerboard is True  # the original's default
    again = known.visualize("known layer", scales=(0, 2000), colormap="magma", checkerboard=False)
    assert again is layer and layer.version == 2 and layer.colormap == "magma" and layer.checkerboard is False
    assert list(the_map.previews) == ["known layer"]


def test_visualize_binds_parameters_and_checks_keywords(known, the_map, map_backend):
    scale = wf.parameter("scale", wf.Float)
    layer = (known * scale).visualize("scaled", scales=(0, 1), scale=0.5)
    assert layer.value.params == () and {"lit": 0.5} in [a for n in layer.value.to_json()["nodes"].values()
                                                         for a in n["args"]]
    with pytest.raises(TypeError, match=r"visualize\(\) got unexpected keyword argument\(s\) 'scael'"):
        (known * scale).visualize("scaled", scael=0.5)
    with pytest.raises(TypeError, match=r"visualize\(\) is missing a value for the graph's parameter\(s\) 'scale'"):
        (known * scale).visualize("scaled")


def test_an_image_collection_is_reduced_first(known, the_map, map_backend):
    collection = wf.ImageCollection.from_id("org:known")
    layer = collection.visualize("median", scales=(0, 4000), reduction="median")
    assert layer.value.node.op == "reduce" and layer.value.node.args[1:] == ("median", ["images"])
    assert collection.visualize("mosaic", scales=(0, 4000)).value.node.op == "mosaic"
    with pytest.raises(ValidationError, match="Invalid operation 'mode'"):
        collection.visualize("bad", reduction="mode")


def test_visualize_on_another_map(known, map_backend):
    m = TileMap(center=CENTER, zoom=14)
    try:
        layer = known.visualize("here", scales=(0, 4000), map=m)
        assert m.previews == {"here": layer}
        assert default_map._MAP.get("map") is None or "here" not in default_map._MAP["map"].previews
    finally:
        m.close()
