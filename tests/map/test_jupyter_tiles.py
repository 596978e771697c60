"""Tiles under the Jupyter server extension keep Jupyter's login."""

from __future__ import annotations

import json

import pytest

from wf_widgets.server import routes as wf_app
from wf_widgets.server.testing import fetch

from .._jupyter import jupyter_server
from .conftest import WEST, decode_png, pixel_at, point

TOKEN = "wf-map-token"


def test_the_jupyter_tile_route_needs_a_login_and_the_others_do_not():
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.serverapp import ServerWebApplication

    rules = wf_app.handlers(None, "/wf-widgets/", "jupyter")
    tile = [handler for pattern, handler, _ in rules if "tiles" in pattern]
    assert len(tile) == 1 and issubclass(tile[0], JupyterHandler)
    for pattern, handler, _ in rules:
        assert ServerWebApplication._check_handler_auth(None, pattern, handler) == [], pattern
    plain = [handler for pattern, handler, _ in wf_app.handlers(None, "/", "thread") if "tiles" in pattern]
    assert not issubclass(plain[0], JupyterHandler)


@pytest.fixture
def jupyter(map_backend, tmp_path):
    with jupyter_server(map_backend.settings.home, tmp_path, TOKEN) as server:
        yield server


def test_tiles_under_the_extension_need_the_token(known, map_backend, jupyter):
    _, base, log = jupyter
    layer = map_backend.layers.put(known.to_json(), {"scales": [[0, 4000]]}, name="known")
    z, x, y, col, row = pixel_at(*point(25.5, 50.5))
    url = f"{base}/wf-widgets/tiles/{layer['id']}/{z}/{x}/{y}.png"
    anonymous = fetch(url)
    assert anonymous.status == 403 and "log in to Jupyter" in anonymous.text
    r = fetch(url, headers={"Authorization": f"token {TOKEN}"})
    assert r.status == 200 and r.headers["Content-Type"] == "image/png"
    level = WEST * 255 // 4000  # floor, as rio-tiler rescales (gray is the identity at this level)
    assert decode_png(r.body)[row, col].tolist() == [level, level, level, 255]
    health = fetch(f"{base}/wf-widgets/health")  # still public
    assert health.status == 200 and json.loads(health.body)["kind"] == "jupyter"
    assert "registered for /jl/wf-widgets" not in log.read_text()  # no route lacks an auth mark
